"""One build at a time per lake: the lease a build takes before it reads or writes anything.

The builds' puts and deletes interleaved could leave a day both in a month object and in a day object. A build
stopped where it cannot let go (a Lambda timeout, a killed process) holds the lease until it runs out: by default
longer than the build Lambda's 15-minute limit. A build under a deadline (Lambda's timeout, noted by its handler) holds
it no later than that instant, when its run record reads failed: the next build then finds the lake free.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from lakehouse.aggregates.build_types import BuildError
from lakehouse.deadline import run_deadline
from lakehouse.errors import RosettaError
from lakehouse.objectstore import ABSENT, PreconditionFailed
from lakehouse.runlog import describe_error
from lakehouse.storage import Lake

LEASE_KEY = "state/build/lease.json"
BUILD_LEASE = timedelta(minutes=30)
# `forget` takes the lease too, so that no build starts while it rewrites raw days; it puts no mart object nor build
# state, so an API instance need not wait for it.
FORGET = "forget"

log = logging.getLogger("rosetta.build")


class Lease(NamedTuple):
    """Who holds the lease, the version of the record that says so, and when it runs out (ISO 8601)."""

    holder: str
    etag: str
    expires_at: str


def now() -> datetime:
    return datetime.now(UTC)


def take(lake: Lake, trigger: str, lease_for: timedelta) -> Lease:
    """Writes the lease (compare-and-swap: of two builds starting together, one gets it). A lease held and not run
    out stops this build with a BuildError naming the one running."""
    started = now()
    found = lake.get_json(LEASE_KEY)
    if found is not None and _running(found[0], started):
        raise _held(found[0])
    holder = uuid.uuid4().hex
    record = {
        "holder": holder,
        "trigger": trigger,
        "started_at": started.isoformat(),
        "expires_at": _expiry(started, lease_for).isoformat(),
    }
    try:
        with suppress(PreconditionFailed):
            # Refused: another build's put came first, or this one's landed and its answer was lost, the retry refused.
            lake.put_json(LEASE_KEY, record, if_match=found[1] if found is not None else ABSENT)
        mine = lake.get_json(LEASE_KEY)
    except Exception:
        # The put may have landed (its answer lost, or the read back failed): a lease left in this build's name would
        # hold the lake until it runs out, though this build never ran.
        _let_go_if_mine(lake, holder, record["expires_at"])
        raise
    if mine is None or mine[0].get("holder") != holder:  # also a store without conditional writes: the last put won
        raise _held(mine[0] if mine is not None else record)
    return Lease(holder, mine[1], record["expires_at"])


def _let_go_if_mine(lake: Lake, holder: str, expires_at: str) -> None:
    """Lets go of the lease if `holder` holds it, as release does; a store that does not answer leaves it until it
    runs out, which release's warning says."""
    try:
        found = lake.get_json(LEASE_KEY)
    except RosettaError as exc:
        _warn_held(expires_at, exc)
        return
    if found is not None and found[0].get("holder") == holder:
        release(lake, Lease(holder, found[1], expires_at))


def _expiry(started: datetime, lease_for: timedelta) -> datetime:
    """When the lease runs out: `lease_for` after its start, and no later than the process's deadline, past which its
    run record reads failed. `lease_for` was measured before the start-up (the bucket check), which would otherwise
    keep the lake held that much longer than the build can run."""
    deadline = run_deadline()
    return min(started + lease_for, deadline) if deadline is not None else started + lease_for


def check(lake: Lake, lease: Lease) -> None:
    """Raises a BuildError when the lease is no longer this build's: it ran out and another build took the lake. A
    build checks before its first put, so that one outliving its lease never puts its tables over a newer build's."""
    found = lake.get_json(LEASE_KEY)
    if found is None or found[1] != lease.etag:
        raise _lost(found)


def renew(lake: Lake, lease: Lease, lease_for: timedelta) -> Lease:
    """The lease held for `lease_for` more from now, by a writer that may outlive it (forget on a large lake): a
    compare-and-swap on the record it took, so a BuildError as check's when it is no longer this writer's."""
    found = lake.get_json(LEASE_KEY)
    if found is None or found[1] != lease.etag:
        raise _lost(found)
    record = found[0] | {"expires_at": (now() + lease_for).isoformat()}
    with suppress(PreconditionFailed):
        # Refused: another build took the lake, or this renewal landed and its answer was lost, the retry refused.
        lake.put_json(LEASE_KEY, record, if_match=lease.etag)
    mine = lake.get_json(LEASE_KEY)
    if mine is None or mine[0] != record:  # also a store without conditional writes: the last put won
        raise _lost(mine)
    return Lease(lease.holder, mine[1], record["expires_at"])


def build_running(lake: Lake) -> bool:
    """Whether a build holds the lake's lease now: one putting its tables, not one that failed or was stopped and
    whose lease ran out, nor `forget`, which puts none."""
    found = lake.get_json(LEASE_KEY)
    return found is not None and _running(found[0], now()) and found[0].get("trigger") != FORGET


def refuse_while_forgetting(lake: Lake) -> None:
    """Raises a RosettaError while `forget` holds the lease: an ingestion writing meanwhile could put back the person it
    removes, in a day or a landing page it has already rewritten. An ingestion calls it once its run records are
    written, and `forget` looks for running ingestions once it holds the lease: of the two starting together, one
    finds the other."""
    found = lake.get_json(LEASE_KEY)
    if found is None or not _running(found[0], now()) or found[0].get("trigger") != FORGET:
        return
    raise RosettaError(
        f"forget is removing a person from the lake (started {found[0].get('started_at')}; its lease holds until "
        f"{found[0].get('expires_at')} if it was stopped): this run read and wrote nothing and moved no watermark, so "
        "the next run reads its window"
    )


def _running(record: Mapping[str, Any], moment: datetime) -> bool:
    return bool(record.get("holder")) and datetime.fromisoformat(str(record["expires_at"])) > moment


def release(lake: Lake, lease: Lease) -> None:
    """Lets go of the lake. The put is retried as every write to the store is (objectstore.RETRIES). A lease taken
    over after it ran out is another's, and stays so. A store that still refuses the put leaves the lake held until
    the lease runs out: the next build and an API instance loading the mart wait until then, which a warning says.
    It raises nothing: the run it ends succeeded or failed by then, as its own record and answer say.

    A put refused on the version it names is read back: the lease may still be this holder's under a version it never
    saw (a renewal that landed though S3's answers to it were lost), which is let go of too."""
    record = {"holder": None, "released_by": lease.holder, "released_at": now().isoformat()}
    expires_at = lease.expires_at
    try:
        try:
            lake.put_json(LEASE_KEY, record, if_match=lease.etag)
        except PreconditionFailed:
            found = lake.get_json(LEASE_KEY)
            if found is None or found[0].get("holder") != lease.holder:  # another's, or let go of already
                return
            expires_at = str(found[0].get("expires_at"))
            with suppress(PreconditionFailed):  # taken over this very moment, or this put's answer lost too
                lake.put_json(LEASE_KEY, record, if_match=found[1])
    except RosettaError as exc:
        _warn_held(expires_at, exc)


def _warn_held(expires_at: str, exc: Exception) -> None:
    why = describe_error(exc)
    log.warning(
        f"the lake's lease {LEASE_KEY} could not be let go ({why}): it holds until {expires_at}, and no "
        "build starts and no API instance loads the mart before then (a new one answers 503)",
        extra={"lease": LEASE_KEY, "holds_until": expires_at, "error": why},
    )


def _held(held: Mapping[str, object]) -> BuildError:
    return BuildError(
        f"another build ({held.get('trigger')}, started {held.get('started_at')}) is running on this lake; this one "
        f"did not start (the lease ends with that build, or at {held.get('expires_at')} if it was stopped)"
    )


def _lost(found: tuple[Any, str] | None) -> BuildError:
    taken = found[0] if found is not None else {}
    who = f" ({taken['trigger']}, started {taken['started_at']})" if taken.get("holder") else ""
    return BuildError(
        f"this build's lease on the lake ran out and another build{who} took it: this one put nothing, "
        "the mart and the build state are the other build's"
    )
