"""One build at a time per lake: the lease a build takes before it reads or writes anything.

The builds' puts and deletes interleaved could leave a day both in a month object and in a day object. A build
stopped where it cannot let go (a Lambda timeout, a killed process) holds the lease until it runs out: by default
longer than the build Lambda's 15-minute limit. A build under a deadline (Lambda's timeout, noted by its handler) holds
it no later than that instant, when its run record reads failed: the next build then finds the lake free.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from typing import Any

from lakehouse.aggregates.build_types import BuildError
from lakehouse.deadline import run_deadline
from lakehouse.errors import RosettaError
from lakehouse.objectstore import ABSENT, PreconditionFailed
from lakehouse.storage import Lake

LEASE_KEY = "state/build/lease.json"
BUILD_LEASE = timedelta(minutes=30)

# (holder, etag): who holds the lease, and the version of the record that says so.
Lease = tuple[str, str]


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
        lake.put_json(LEASE_KEY, record, if_match=found[1] if found is not None else ABSENT)
    except PreconditionFailed:
        taken = lake.get_json(LEASE_KEY)
        raise _held(taken[0] if taken is not None else record) from None
    mine = lake.get_json(LEASE_KEY)
    if mine is None or mine[0].get("holder") != holder:  # a store without conditional writes: the last put won
        raise _held(mine[0] if mine is not None else record)
    return holder, mine[1]


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
    if found is None or found[1] != lease[1]:
        raise _lost(found)


def renew(lake: Lake, lease: Lease, lease_for: timedelta) -> Lease:
    """The lease held for `lease_for` more from now, by a writer that may outlive it (forget on a large lake): a
    compare-and-swap on the record it took, so a BuildError as check's when it is no longer this writer's."""
    holder, etag = lease
    found = lake.get_json(LEASE_KEY)
    if found is None or found[1] != etag:
        raise _lost(found)
    record = found[0] | {"expires_at": (now() + lease_for).isoformat()}
    try:
        lake.put_json(LEASE_KEY, record, if_match=etag)
    except PreconditionFailed:
        raise _lost(lake.get_json(LEASE_KEY)) from None
    mine = lake.get_json(LEASE_KEY)
    if mine is None or mine[0] != record:  # a store without conditional writes: the last put won
        raise _lost(mine)
    return holder, mine[1]


def build_running(lake: Lake) -> bool:
    """Whether a build holds the lake's lease now: one putting its tables, not one that failed or was stopped and
    whose lease ran out."""
    found = lake.get_json(LEASE_KEY)
    return found is not None and _running(found[0], now())


def _running(record: Mapping[str, Any], moment: datetime) -> bool:
    return bool(record.get("holder")) and datetime.fromisoformat(str(record["expires_at"])) > moment


def release(lake: Lake, lease: Lease) -> None:
    holder, etag = lease
    # Taken over after it ran out, or the lake unreachable now: the lease runs out by itself.
    with suppress(PreconditionFailed, RosettaError):
        lake.put_json(
            LEASE_KEY, {"holder": None, "released_by": holder, "released_at": now().isoformat()}, if_match=etag
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
