"""Reads pytest's `--durations=0` report on stdin and prints the tests over a threshold.

Usage: python tests/support/slow_list.py SECONDS < durations.txt > tests/slow_tests.txt
A test's time is its set-up, call and tear-down together; the list is sorted, one id a line.
"""

from __future__ import annotations

import re
import sys
from collections import defaultdict

LINE = re.compile(r"^([\d.]+)s (?:setup|call|teardown)\s+(\S+)$")


def slow_tests(lines: list[str], threshold_s: float) -> list[str]:
    spent: dict[str, float] = defaultdict(float)
    for line in lines:
        match = LINE.match(line.strip())
        if match:
            spent[match[2]] += float(match[1])
    return sorted(test for test, seconds in spent.items() if seconds >= threshold_s)


def main() -> int:
    if len(sys.argv) != 2:
        print("usage: slow_list.py SECONDS < durations.txt", file=sys.stderr)
        return 2
    tests = slow_tests(sys.stdin.read().splitlines(), float(sys.argv[1]))
    if not tests:
        print("slow_list.py: no durations in the input (did pytest run?)", file=sys.stderr)
        return 1
    print("\n".join(tests))
    return 0


if __name__ == "__main__":
    sys.exit(main())
