"""Measure how long `qabot --help` and a usage error take: the command line's start-up alone.

Run: python benchmarks/cli_start.py [--runs N]
Each case runs as a fresh process (`python -m bot.cli.main ...`, as the `qabot` script does);
the median and the fastest of N runs are printed, with the modules the process imported.
Target (issue 13, item 8): help and usage errors do not import numpy, rjieba or torch.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CASES = {
    "--help": ["--help"],
    "ask --help": ["ask", "--help"],
    'ask ""': ["ask", ""],
    "show -k": ["show", "-k", "1"],
    "ask -k 0": ["ask", "x", "-k", "0"],
}
HEAVY = ("numpy", "rjieba", "faiss", "torch", "telegram", "bm25s")
# Print the heavy modules the command line imported, after it has run.
PROBE = (
    "import sys, runpy\n"
    "sys.argv = ['qabot', *sys.argv[1:]]\n"
    "try:\n"
    "    runpy.run_module('bot.cli.main', run_name='__main__')\n"
    "except SystemExit:\n"
    "    pass\n"
    f"print('heavy:', *(m for m in {HEAVY!r} if m in sys.modules), file=sys.__stderr__)\n"
)


def run_once(command: list[str]) -> float:
    """Run a command once; return its wall time in seconds."""
    started = time.perf_counter()
    subprocess.run(command, cwd=REPO, capture_output=True, check=False)
    return time.perf_counter() - started


def heavy_imports(argv: list[str]) -> str:
    """Return the heavy modules a run of the command line imported ('' when none)."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *argv], cwd=REPO, capture_output=True, text=True, check=False
    )
    found = [line for line in done.stderr.splitlines() if line.startswith("heavy:")]
    return found[-1].removeprefix("heavy:").strip() if found else "(did not run)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="runs per case (default 15)")
    args = parser.parse_args()
    # What no command line can go below: the interpreter starting and stopping.
    bare = [run_once([sys.executable, "-c", "pass"]) for _ in range(args.runs)]
    print(f"{'case':<12} {'median':>8} {'fastest':>8}  heavy modules imported")
    for name, argv in CASES.items():
        times = [run_once([sys.executable, "-m", "bot.cli.main", *argv]) for _ in range(args.runs)]
        heavy = heavy_imports(argv) or "none"
        print(f"{name:<12} {statistics.median(times):7.3f}s {min(times):7.3f}s  {heavy}")
    print(f"{'python -c pass':<12} {statistics.median(bare):7.3f}s {min(bare):7.3f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
