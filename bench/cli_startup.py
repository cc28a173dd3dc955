"""How fast the installed `orcoursetrion` console script answers `--help` and `--version`
(arguments are parsed before any heavy import): prints the median and worst wall time of
N runs, and the time of one full import of the action layer for comparison."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

import _setup  # noqa: F401

RUNS = 15
SCRIPT = Path(sys.executable).parent / "orcoursetrion"


def timed(argv: list[str]) -> list[float]:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    print(f"{'command':<40} {'median':>8} {'worst':>8}  ({RUNS} runs, wall time)")
    for label, argv in (
        ("orcoursetrion --help", [str(SCRIPT), "--help"]),
        ("orcoursetrion --version", [str(SCRIPT), "--version"]),
        ("orcoursetrion create_xml_repo --help", [str(SCRIPT), "create_xml_repo", "--help"]),
        ("python -c 'import orcoursetrion.jobtypes'", [sys.executable, "-c", "import orcoursetrion.jobtypes"]),
    ):
        times = timed(argv)
        print(f"{label:<40} {statistics.median(times) * 1000:>6.0f}ms {max(times) * 1000:>6.0f}ms")


if __name__ == "__main__":
    main()
