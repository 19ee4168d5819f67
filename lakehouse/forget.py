"""Forgetting a person on request (README, "Personal data"): the `forget` command.

The lake names a person where it keeps who deployed (WHO, the whole value), in the free text people write
(FREE_TEXT), in the rejects (records kept as received) and in the landing pages (the sources' pages as sent); the
last three hold the identifier as a whole token (`jdoe` in `user jdoe logged`, not in `jdoe2` nor `jdoe@example.com`),
the rejects' records and the landing pages being JSON text read with its escapes undone. Case is ignored everywhere,
and so is how an accent is written (`é`, or `e` and the combining U+0301, which continues the name it follows).
Who deployed is set to null, the rejects naming them are left out of their days and the landing pages' values naming
them set to null (a page holds other people's records too); the free text only when asked, as a name found in a
description may be another word. Every other row and value stays as it was. Neither the identifier nor a digest of
it is written anywhere: a digest of a username is found again by trying the usernames.
"""

from __future__ import annotations

import json
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pyarrow as pa

from lakehouse.aggregates import lease
from lakehouse.aggregates.build_types import BuildError
from lakehouse.errors import RosettaError
from lakehouse.ingest.run import MAX_RAW_TEXT
from lakehouse.runlog import READ_AT_ONCE, RunLog, RunRecord
from lakehouse.schemas import REGISTRY, SOURCES, Dataset
from lakehouse.storage import Lake

# Shorter, an identifier would be found inside too many words of the rejects and the landing pages.
SHORTEST = 3
# Who deployed (README, "Personal data"); the registry does not mark such columns, so they are named here.
WHO: dict[str, tuple[str, ...]] = {
    "argocd/sync_operations": ("initiated_by",),  # ArgoCD's initiatedBy of an operation, failed ones included
    "argocd/deployment_history": ("initiated_by",),  # ArgoCD's initiatedBy of a history entry
    "gitlab/deployments": ("user_username",),  # GitLab's deploying username
    "deploys/deployment_events": ("initiated_by",),  # the three above, unified: what the build reads
}
# Free text that may name someone: counted, and set to null with --free-text. A list of tags loses the tags naming
# the person alone: the others (app:shop) map the service to its application.
FREE_TEXT: dict[str, tuple[str, ...]] = {
    "servicenow/incidents": ("short_description",),
    "servicenow/changes": ("short_description",),
    "servicenow/problems": ("short_description",),
    "gitlab/merge_requests": ("title",),
    "gitlab/deployment_merge_requests": ("title",),
    "argocd/sync_operations": ("message",),
    "argocd/app_status": ("operation_message",),
    "dynatrace/problems": ("title", "entity_tags"),
    "dynatrace/entities": ("tags",),
}
# What a reject keeps of the record it set aside: the record as received (JSON text, or the text of a page that was
# not JSON), and why (plain text, which may quote a value).
REJECT_TEXT = ("raw_text", "reason")
# A character that may be part of a username or an e-mail address: the identifier is a token only between others.
PART = r"\w.+@%-"
PART_BUT_STOP = PART.replace(".", "")
NAME_CHARACTER = re.compile(rf"[{PART}]")
# What may follow the identifier: not a part of a longer name, save full stops ending a sentence (`by jdoe.`,
# `jdoe...`), which no username or address ends with; `jdoe.smith` and `jdoe@example.com.au` are other people.
AFTER = rf"(?!\.*[{PART_BUT_STOP}])"
# What may come before it: no part of a longer name, or an @ that none comes before, GitLab's mention (`@jdoe`);
# `ops@jdoe` is another person's address.
BEFORE = rf"(?:(?<![{PART}])|(?<=(?<![{PART}])@))"
# An escape of JSON text: `\u00e9`, or one of `\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t`.
JSON_ESCAPE = re.compile(r'\\(?:u([0-9a-fA-F]{4})|(["\\/bfnrt]))')
ESCAPED = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
# How far back the run log is read for an ingestion still running: Lambda stops one within 15 minutes, and a backfill
# by hand still running is its source's last run unless a later run of that source started meanwhile.
RUNNING_SINCE = timedelta(days=1)
# Renewed this often, the lease never runs out under a long run, without a write to it before every write.
RENEW_AFTER = lease.BUILD_LEASE / 6


def person_of(identifier: str) -> str:
    """The identifier as matched, without the blanks around it. Never quoted back: an error line may reach a log."""
    person = identifier.strip()
    if len(person) < SHORTEST:
        said = "empty" if not person else f"shorter than {SHORTEST} characters"
        raise RosettaError(
            f"the identifier given is {said}: it would be found in too many rejects and landing pages; give the "
            "whole username or e-mail address"
        )
    return person


def folded(text: str) -> str:
    """Text as it is matched: its case folded, in NFC, so that an accent written apart (`e` then U+0301) and one
    written in its letter (`é`) read the same. Only what is matched is folded: the lake keeps text as written."""
    if text.isascii():  # NFC already: a landing page is mostly ASCII, and large
        return text.casefold()
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", text).casefold())


def token_of(person: str) -> re.Pattern[str]:
    """The identifier as a whole token of folded text, with the text's start or end, or a character no username
    holds, on each side (an @ before it too, as in a mention); a full stop after it ends a sentence. A combining
    mark is checked apart (see found)."""
    return re.compile(rf"{BEFORE}{re.escape(folded(person))}{AFTER}")


def names(text: str | None, token: re.Pattern[str]) -> bool:
    """Whether free text names the person (`token`, from token_of), without regard to case."""
    return text is not None and found(folded(text), token)


def found(text: str, token: re.Pattern[str]) -> bool:
    """Whether folded text holds the token, with no combining mark joining it to a longer name: an accent NFC
    cannot put in a letter stays a character of its own, which the token's boundaries do not take as a name's."""
    match = token.search(text)
    while match is not None:
        if not _continued(text, match.start(), match.end()):
            return True
        match = token.search(text, match.start() + 1)
    return False


def _continued(text: str, start: int, end: int) -> bool:
    """Whether a combining mark makes text[start:end] part of a longer name: one right after it (`jdox` then U+0301,
    which no letter holds, is another name), or one right before it on a character of a name (`x`, U+0301, `jdoe`)."""
    if end < len(text) and _is_mark(text[end]):
        return True
    base = start
    while base > 0 and _is_mark(text[base - 1]):
        base -= 1
    return 0 < base < start and NAME_CHARACTER.match(text[base - 1]) is not None


def _is_mark(character: str) -> bool:
    return unicodedata.category(character).startswith("M")


def names_in_json(text: str | None, token: re.Pattern[str]) -> bool:
    """Whether JSON text (a landing page) names the person, its escapes read as the characters they stand for: `Émile`
    kept as `\\u00c9mile`, `CORP\\jdoe` kept as `CORP\\\\jdoe`."""
    return text is not None and names(unescaped(text), token)


def cut_inside(text: str | None, person: str, token: re.Pattern[str]) -> bool:
    """Whether a reject's record, cut at MAX_RAW_TEXT characters, was cut inside the identifier: it then ends with
    the identifier's first characters (SHORTEST or more, after a character no username holds), which name the
    person as well as the whole would."""
    if text is None or len(text) < MAX_RAW_TEXT:
        return False
    whole = folded(person)
    written_apart = unicodedata.normalize("NFD", whole)  # its longest spelling: each accent a character of its own
    tail = folded(text[-(len(written_apart) + 1) :])
    # A cut may fall between a letter and its accent written apart: `jdoe` begins jdoé (`jdoe` then U+0301).
    beginnings = {folded(written_apart[:cut]) for cut in range(1, len(written_apart))} - {whole}
    return any(
        len(beginning) >= SHORTEST
        and tail.endswith(beginning)
        and found(tail[: len(tail) - len(beginning)] + whole, token)
        for beginning in beginnings
    )


def names_in_record(text: str | None, token: re.Pattern[str]) -> bool:
    """Whether a reject's record as received names the person: JSON text read with its escapes undone; other text (a
    page cut short, an HTML error page) read both ways, as its backslashes may be escapes or plain characters
    (`CORP\\nancy` in an error page is user nancy)."""
    if text is None:
        return False
    if names_in_json(text, token):
        return True
    try:
        json.loads(text)
    except ValueError:
        return names(text, token)
    return False


def unescaped(text: str) -> str:
    """JSON text with its escapes undone, a surrogate pair as its one character. Read from left to right, an escaped
    backslash never starts another escape: `CORP\\\\njdoe` is `CORP\\njdoe` (user njdoe), not a line ending before jdoe.
    Text that is not JSON (a page cut short) is read the same way."""

    def character(escape: re.Match[str]) -> str:
        code, letter = escape.groups()
        return chr(int(code, 16)) if code else ESCAPED[letter]

    return JSON_ESCAPE.sub(character, text).encode("utf-16", "surrogatepass").decode("utf-16", "surrogatepass")


def is_person(value: str | None, person: str) -> bool:
    """Whether a who-deployed value is the person: the whole value, without regard to case, to how its accents are
    written or to the blanks around it."""
    return value is not None and folded(value.strip()) == folded(person)


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


@dataclass
class Day:
    """What one day partition holds of the person, and what forgetting changes there."""

    dataset: str
    day: date
    rows: int  # rows in the day before
    changed: int = 0  # rows whose values are set to null
    left_out: int = 0  # reject rows left out
    named: int = 0  # rows whose free text names the person, left as they are
    nulled: set[str] = field(default_factory=set)  # the columns set to null in those rows
    dropped: set[str] = field(default_factory=set)  # the lists of tags that lose tags in those rows
    named_in: set[str] = field(default_factory=set)  # the free-text columns left as they are

    @property
    def rewritten(self) -> bool:
        return self.changed > 0 or self.left_out > 0

    def lines(self, done: bool) -> list[str]:
        where = f"{self.dataset:<32} {self.day.isoformat()}"
        verb = "" if done else "would be "
        said = []
        if self.changed:
            changes = [f"{c} {verb}set to null" for c in sorted(self.nulled)]
            changes += [f"the {c} naming it {verb}dropped" for c in sorted(self.dropped)]
            said.append(f"{where}  {plural(self.changed, 'row')}: {', '.join(changes)}")
        if self.left_out:
            said.append(f"{where}  {plural(self.left_out, 'row')} naming it {verb}left out")
        if self.named:
            columns = ", ".join(sorted(self.named_in))
            said.append(f"{where}  {plural(self.named, 'row')}: {columns} naming it, kept (--free-text changes it)")
        return said


@dataclass
class Outcome:
    """What a forget run found and changed."""

    days: list[Day] = field(default_factory=list)
    page_keys: list[str] = field(default_factory=list)  # the landing pages naming it
    run_id: str | None = None
    # Days and pages are added from the threads that rewrite them, as each is done.
    _adding: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add_day(self, found: Day) -> None:
        with self._adding:
            self.days.append(found)

    def add_page(self, key: str) -> None:
        with self._adding:
            self.page_keys.append(key)

    @property
    def pages(self) -> Counter[tuple[str, str]]:
        """The landing pages naming the person, by dataset and day."""
        return Counter(_page_place(key) for key in self.page_keys)

    @property
    def rewritten(self) -> list[Day]:
        return [d for d in self.days if d.rewritten]

    def rewritten_keys(self) -> list[str]:
        """The objects rewritten (or, in a dry run, that would be): on a versioned bucket, each keeps its earlier
        version, which still names the person until it is deleted. No key holds the identifier."""
        days = [Lake.partition_key(REGISTRY[d.dataset], d.day) for d in self.rewritten]
        return sorted({*days, *self.page_keys})


def _page_place(key: str) -> tuple[str, str]:
    """A landing page's dataset and day; a key of another shape, its source and "-"."""
    place = Lake.landing_page_of(key)
    return (place[0], place[1].isoformat()) if place else (key.split("/")[1], "-")


def forgotten(dataset: Dataset, rows: pa.Table, day: date, person: str, free_text: bool) -> tuple[pa.Table, Day]:
    """A day's rows without the person, and what that changes."""
    found = Day(dataset.id, day, rows.num_rows)
    token = token_of(person)
    if dataset.name == "rejects":
        records = zip(*(rows[column].to_pylist() for column in REJECT_TEXT), strict=True)
        kept = [
            not (names_in_record(raw, token) or names(reason, token) or cut_inside(raw, person, token))
            for raw, reason in records
        ]
        found.left_out = kept.count(False)
        return rows.filter(pa.array(kept, pa.bool_())), found
    touched = [False] * rows.num_rows
    named = [False] * rows.num_rows
    for column in WHO.get(dataset.id, ()):
        values = rows[column].to_pylist()
        hits = [is_person(value, person) for value in values]
        if any(hits):
            found.nulled.add(column)
            touched = [a or b for a, b in zip(touched, hits, strict=True)]
            rows = _with(rows, column, [None if hit else value for hit, value in zip(hits, values, strict=True)])
    for column in FREE_TEXT.get(dataset.id, ()):
        values = rows[column].to_pylist()
        cleaned = [_without(value, token) for value in values]
        hits = [a != b for a, b in zip(values, cleaned, strict=True)]
        if not any(hits):
            continue
        if free_text:
            (found.dropped if isinstance(dataset.column(column).type, pa.ListType) else found.nulled).add(column)
            touched = [a or b for a, b in zip(touched, hits, strict=True)]
            rows = _with(rows, column, cleaned)
        else:
            found.named_in.add(column)
            named = [a or b for a, b in zip(named, hits, strict=True)]
    found.changed, found.named = touched.count(True), named.count(True)
    return rows, found


def _without(value: Any, token: re.Pattern[str]) -> Any:
    """Free text without the person: null when it names them; a list of tags without the tags naming them."""
    if isinstance(value, list):
        return [tag for tag in value if not names(tag, token)]
    return None if names(value, token) else value


# The keys by which a source's object of a person names them (GitLab's user, ArgoCD's initiatedBy): such an object is
# the person's as a whole, their display name, avatar and profile beside the username.
PERSON_KEYS = ("username", "email", "public_email", "commit_email")
# The keys of one person beside other keys, by their ending: GitLab's commit gives its author as author_name beside
# author_email, and its committer likewise. When the address or username names the person, the three go together;
# other keys with the same beginning (user_notes_count) are not theirs.
PERSON_KEY_ENDINGS = ("_email", "_username", "_name")


def redacted(page: Any, naming: Callable[[str], bool]) -> tuple[Any, bool]:
    """A landing page with every text value `naming` the person set to null, and every object of that person (one whose
    username or e-mail names them) as a whole, and whether any was; all else as sent."""
    if isinstance(page, str):
        return (None, True) if naming(page) else (page, False)
    if isinstance(page, list):
        items = [redacted(item, naming) for item in page]
        return [item for item, _ in items], any(hit for _, hit in items)
    if isinstance(page, dict):
        if any(isinstance(page.get(key), str) and naming(page[key]) for key in PERSON_KEYS):
            return None, True
        theirs = {
            key[: -len(ending)] + other
            for key, value in page.items()
            for ending in PERSON_KEY_ENDINGS[:2]  # an address or a username names them; a display name may not
            if key.endswith(ending) and len(key) > len(ending) and isinstance(value, str) and naming(value)
            for other in PERSON_KEY_ENDINGS
        }
        fields = {name: (None, True) if name in theirs else redacted(value, naming) for name, value in page.items()}
        return {name: value for name, (value, _) in fields.items()}, any(hit for _, hit in fields.values())
    return page, False


def _with(rows: pa.Table, column: str, values: list[Any]) -> pa.Table:
    where = rows.schema.get_field_index(column)
    kind = rows.schema.field(where)
    return rows.set_column(where, kind, pa.array(values, kind.type))


def searched() -> list[Dataset]:
    """The datasets that may name a person, in the registry's order."""
    return [d for d in REGISTRY.values() if d.id in WHO or d.id in FREE_TEXT or d.name == "rejects"]


def landing_sources(free_text: bool) -> list[str]:
    """The sources whose landing pages are searched: those giving who deployed, and with --free-text those giving free
    text too (ServiceNow's and Dynatrace's pages are read only then)."""
    given = set(WHO) | (set(FREE_TEXT) if free_text else set())
    return sorted({REGISTRY[d].source for d in given})


def refuse_while_ingesting(lake: Lake) -> None:
    """An ingestion writing the days being rewritten may write the person back: each source's last run must be over,
    and every ingestion the run log holds of the last day too (a backfill, or a run still going when a later one of
    its source started). A run past its deadline, or without a sign of life, reads as failed (RunRecord)."""
    runs = RunLog(lake)
    noted = [record for source in SOURCES for record in runs.last_run(source) or []]
    recent = runs.list(started_from=datetime.now(UTC) - RUNNING_SINCE, limit=10**6)
    for record in [*noted, *recent]:
        if record.function.startswith("ingest_") and record.status == "running":
            raise RosettaError(
                f"an ingestion of {record.source} is running (run {record.run_id}, started "
                f"{record.started_at.isoformat()}): nothing was changed; stop the schedules (schedules_enabled = "
                "false, or the scheduler stopped) and run forget again once it has ended"
            )


def forget(
    lake: Lake,
    identifier: str,
    *,
    free_text: bool = False,
    dry_run: bool = False,
    actor: str = "cli",
    say: Callable[[str], None] = print,
    outcome: Outcome | None = None,
) -> Outcome:
    """Find the person in the lake and, unless `dry_run`, forget them, each change said as it is made. A real run holds
    the build's lease while it writes (a build holding it refuses the run, and no build starts meanwhile), and is
    recorded in the run log, the days it rewrote as its days written. A caller's `outcome` says what was changed even
    when the run fails part-way."""
    person = person_of(identifier)
    outcome = Outcome() if outcome is None else outcome
    if dry_run:
        with _side_by_side() as pool:
            _search(lake, pool, person, free_text, None, outcome, say)
        return outcome
    refuse_while_ingesting(lake)
    held = Held(lake, lease.take(lake, lease.FORGET, lease.BUILD_LEASE))
    try:
        # Again, holding the lease: an ingestion started since the check above writes nothing once it finds the lease
        # (lease.refuse_while_forgetting), and one that found it free is running now.
        refuse_while_ingesting(lake)
        runs = RunLog(lake)
        record = runs.start("forget", "lake", trigger=f"cli:{actor}")
        outcome.run_id = record.run_id
        try:
            with _side_by_side() as pool:
                _search(lake, pool, person, free_text, (record.run_id, held), outcome, say)
        except BaseException as stop:  # Ctrl-C too: the record says what was rewritten before
            _record(runs, record, outcome, stop)
            raise
        _record(runs, record, outcome, None)
    finally:
        lease.release(lake, held.lease)
    return outcome


class Held:
    """The build's lease while forget runs, renewed before each page read and each write: a run longer than the lease
    would otherwise let a build start and read, or write back, the days being rewritten."""

    def __init__(self, lake: Lake, taken: lease.Lease) -> None:
        self.lake, self.lease, self.renewed = lake, taken, lease.now()
        self._renewing = threading.Lock()

    def keep(self) -> None:
        """Renews the lease when a good part of it has passed; a RosettaError when a build took the lake meanwhile, or
        the store refused the renewal past its retries."""
        with self._renewing:
            if lease.now() - self.renewed < RENEW_AFTER:
                return
            try:
                self.lease = lease.renew(self.lake, self.lease, lease.BUILD_LEASE)
            except BuildError:
                raise RosettaError(
                    "forget's lease on the lake ran out and a build took it: forget stopped, the days rewritten so "
                    "far are in its run record; run forget again once the build is over"
                ) from None
            except RosettaError as exc:
                # The store's answer, not a build: a renewal that landed is let go of all the same (lease.release).
                raise RosettaError(
                    f"forget's lease on the lake could not be renewed ({exc}): forget stopped, the days rewritten so "
                    "far are in its run record; run forget again"
                ) from exc
            self.renewed = lease.now()


@contextmanager
def _side_by_side() -> Iterator[Executor]:
    """Days and pages read (and rewritten) a few at a time, as S3 answers each in tens of milliseconds. A run stopped
    (Ctrl-C, an error) drops what is still queued, rather than rewriting it unrecorded."""
    pool = ThreadPoolExecutor(max_workers=READ_AT_ONCE)
    try:
        yield pool
    finally:
        pool.shutdown(cancel_futures=True)


def _record(runs: RunLog, record: RunRecord, outcome: Outcome, error: BaseException | None) -> None:
    """The run's end: the days rewritten (the next hourly build rebuilds them), the rows they held and hold."""
    record.days_written = sorted({d.day.isoformat() for d in outcome.rewritten})
    record.rows_in = sum(d.rows for d in outcome.rewritten)
    record.rows_out = record.rows_in - sum(d.left_out for d in outcome.rewritten)
    runs.finish(record, "failed" if error else "succeeded", error=error)


def _search(
    lake: Lake,
    pool: Executor,
    person: str,
    free_text: bool,
    writing: tuple[str, Held] | None,
    outcome: Outcome,
    say: Callable[[str], None],
) -> None:
    """Every day of the datasets that may name the person, then the landing pages; rewritten and redacted when
    `writing` (a real run's id and lease) is given, else only read. Each day and page is added to the outcome as it is
    done, so a run failing part-way still records those."""
    for dataset in searched():

        def visit(day: date, dataset: Dataset = dataset) -> Day | None:
            if writing is None:
                rows = lake.read_partition(dataset, day)
                return None if rows is None else forgotten(dataset, rows, day, person, free_text)[1]
            run_id, held = writing
            found: Day | None = None

            def change(rows: pa.Table) -> pa.Table | None:
                # Made again on another writer's version of the day: the last change made is the one written.
                nonlocal found
                new, found = forgotten(dataset, rows, day, person, free_text)
                return new if found.rewritten else None

            held.keep()
            lake.rewrite_partition(dataset, day, change, run_id=run_id)
            return found

        def done(future: Future[Day | None]) -> None:
            found = None if future.cancelled() or future.exception() else future.result()
            if found is not None and (found.rewritten or found.named):
                outcome.add_day(found)

        futures = [pool.submit(visit, day) for day in lake.list_partitions(dataset)]
        for future in futures:
            future.add_done_callback(done)
        for future in futures:  # said in the days' order
            found = future.result()
            if found is not None and (found.rewritten or found.named):
                for line in found.lines(done=writing is not None):
                    say(line)
    _redact_pages(lake, pool, person, free_text, writing[1] if writing else None, outcome)
    for (dataset_id, day), count in sorted(outcome.pages.items()):
        verb = "redacted" if writing is not None else "would be redacted"
        say(f"{'landing ' + dataset_id:<32} {day}  {plural(count, 'page')} naming it {verb}")


def _redact_pages(
    lake: Lake, pool: Executor, person: str, free_text: bool, held: Held | None, outcome: Outcome
) -> None:
    """The landing pages naming the person, their values naming them set to null and written back when `held`. The
    text is searched first, and only the pages it names the person in are parsed."""
    token = token_of(person)

    def naming(value: str) -> bool:
        return is_person(value, person) or (free_text and names(value, token))

    def redact(key: str) -> None:
        if held is not None:
            held.keep()  # before every page read, not only those rewritten: pages not naming anyone take time too
        text = lake.read_landing_text(key)
        if text is None or not names_in_json(text, token):
            return
        page, changed = redacted(json.loads(text), naming)
        if not changed:
            return
        if held is not None:
            lake.rewrite_landing(key, page)
        outcome.add_page(key)

    for source in landing_sources(free_text):
        for _ in pool.map(redact, lake.landing_keys(source)):
            pass
