"""The peak memory a benchmark reports for its own process."""

from __future__ import annotations

from pathlib import Path


def peak_rss_mb() -> float:
    """Peak resident set size of this process since it started, in MB: the kernel's high-water mark of its memory
    (VmHWM). Not `ru_maxrss`: Linux carries that over fork and exec, so a measurement run in a child of a large
    process reported the parent's peak (every child of a benchmark that had just generated its lake, 1.5 GB)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("/proc/self/status has no VmHWM line: the benchmarks measure memory on Linux only")
