"""The memory figures the benchmarks report, read from the kernel's status file of a process."""

from __future__ import annotations

from pathlib import Path


def status_mb(*fields: str, pid: int | str = "self") -> tuple[float, ...]:
    """The figures `fields` (VmRSS, VmHWM, ...) of /proc/<pid>/status, in MB, in the order asked."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in fields:
            found[name] = int(value.split()[0]) / 1024
    missing = [f for f in fields if f not in found]
    if missing:
        raise RuntimeError(f"/proc/{pid}/status has no {', '.join(missing)}: the benchmarks read memory on Linux only")
    return tuple(found[f] for f in fields)


def peak_rss_mb() -> float:
    """Peak resident set size of this process since it started: the kernel's high-water mark of its memory (VmHWM).
    Not `ru_maxrss`: Linux carries that over fork and exec, so a measurement run in a child of a large process
    reported the parent's peak (every child of a benchmark that had just generated its lake, 1.5 GB)."""
    return status_mb("VmHWM")[0]


def current_rss_mb() -> float:
    """Resident set size of this process now (VmRSS)."""
    return status_mb("VmRSS")[0]
