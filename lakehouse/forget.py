"""Forgetting a person on request (README, "Personal data"): the `forget` command.

The lake names a person where it keeps who deployed (WHO, matched exactly), in the free text people write
(FREE_TEXT), in the rejects (records kept as received) and in the landing pages (the sources' pages as sent); the
last three are matched without regard to case. Who deployed is set to null, the rejects naming them are left out of
their days and the landing pages naming them deleted; the free text only when asked, as a name found in a
description may be another word. Every other row and value stays as it was. Neither the identifier nor a digest of it
is written anywhere: a digest of a username is found again by trying the usernames.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pyarrow as pa

from lakehouse.aggregates import lease
from lakehouse.errors import RosettaError
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
# What a reject keeps of the record it set aside: the record as received, and why (which may quote a value).
REJECT_TEXT = ("raw_text", "reason")


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


def names(text: str | None, needle: str) -> bool:
    """Whether free text names the person (`needle`, casefolded): within a word too, without regard to case."""
    return text is not None and needle in text.casefold()


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
    pages: Counter[tuple[str, str]] = field(default_factory=Counter)  # landing dataset and day: pages naming it
    run_id: str | None = None

    @property
    def rewritten(self) -> list[Day]:
        return [d for d in self.days if d.rewritten]


def forgotten(dataset: Dataset, rows: pa.Table, day: date, person: str, free_text: bool) -> tuple[pa.Table, Day]:
    """A day's rows without the person, and what that changes."""
    found = Day(dataset.id, day, rows.num_rows)
    needle = person.casefold()
    if dataset.name == "rejects":
        texts = zip(*(rows[c].to_pylist() for c in REJECT_TEXT), strict=True)
        kept = [not any(names(text, needle) for text in record) for record in texts]
        found.left_out = kept.count(False)
        return rows.filter(pa.array(kept, pa.bool_())), found
    touched = [False] * rows.num_rows
    named = [False] * rows.num_rows
    for column in WHO.get(dataset.id, ()):
        values = rows[column].to_pylist()
        hits = [value == person for value in values]
        if any(hits):
            found.nulled.add(column)
            touched = [a or b for a, b in zip(touched, hits, strict=True)]
            rows = _with(rows, column, [None if hit else value for hit, value in zip(hits, values, strict=True)])
    for column in FREE_TEXT.get(dataset.id, ()):
        values = rows[column].to_pylist()
        cleaned = [_without(value, needle) for value in values]
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


def _without(value: Any, needle: str) -> Any:
    """Free text without the person: null when it names them; a list of tags without the tags naming them."""
    if isinstance(value, list):
        return [tag for tag in value if not names(tag, needle)]
    return None if names(value, needle) else value


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
    """An ingestion writing the days being rewritten may write the person back: its source's last run must be over."""
    runs = RunLog(lake)
    for source in SOURCES:
        for record in runs.last_run(source) or []:
            if record.status == "running":
                raise RosettaError(
                    f"an ingestion of {source} is running (run {record.run_id}, started "
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
) -> Outcome:
    """Find the person in the lake and, unless `dry_run`, forget them, each change said as it is made. A real run holds
    the build's lease while it writes (a build holding it refuses the run, and no build starts meanwhile), and is
    recorded in the run log, the days it rewrote as its days written."""
    person = person_of(identifier)
    outcome = Outcome()
    if dry_run:
        with _side_by_side() as pool:
            _search(lake, pool, person, free_text, None, outcome, say)
        return outcome
    refuse_while_ingesting(lake)
    held = lease.take(lake, "forget", lease.BUILD_LEASE)
    try:
        runs = RunLog(lake)
        record = runs.start("forget", "lake", trigger=f"cli:{actor}")
        outcome.run_id = record.run_id
        try:
            with _side_by_side() as pool:
                _search(lake, pool, person, free_text, record.run_id, outcome, say)
        except BaseException as stop:  # Ctrl-C too: the record says what was rewritten before
            _record(runs, record, outcome, stop)
            raise
        _record(runs, record, outcome, None)
    finally:
        lease.release(lake, held)
    return outcome


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
    run_id: str | None,
    outcome: Outcome,
    say: Callable[[str], None],
) -> None:
    """Every day of the datasets that may name the person, then the landing pages; rewritten and deleted when a run id
    is given (a real run), else only read."""
    for dataset in searched():

        def visit(day: date, dataset: Dataset = dataset) -> Day | None:
            if run_id is None:
                rows = lake.read_partition(dataset, day)
                return None if rows is None else forgotten(dataset, rows, day, person, free_text)[1]
            found: Day | None = None

            def change(rows: pa.Table) -> pa.Table | None:
                nonlocal found
                new, found = forgotten(dataset, rows, day, person, free_text)
                return new if found.rewritten else None

            lake.rewrite_partition(dataset, day, change, run_id=run_id)
            return found

        for found in pool.map(visit, lake.list_partitions(dataset)):
            if found is not None and (found.rewritten or found.named):
                outcome.days.append(found)
                for line in found.lines(done=run_id is not None):
                    say(line)
    needle = person.casefold()

    def naming(key: str) -> bool:
        page = lake.read_landing(key)
        # As text with its characters unescaped, as the rejects keep it: "josé", not "jos\u00e9".
        return page is not None and names(json.dumps(page, ensure_ascii=False), needle)

    for source in landing_sources(free_text):
        keys = lake.landing_keys(source)
        for key, holds in zip(keys, pool.map(naming, keys), strict=True):
            if not holds:
                continue
            if run_id is not None:
                lake.delete_landing(key)
            page = lake.landing_page_of(key)
            outcome.pages[(page[0], page[1].isoformat()) if page else (source, "-")] += 1
    for (dataset_id, day), count in sorted(outcome.pages.items()):
        verb = "deleted" if run_id is not None else "would be deleted"
        say(f"{'landing ' + dataset_id:<32} {day}  {plural(count, 'page')} naming it {verb}")
