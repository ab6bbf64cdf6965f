"""What each security suite tried and what held, printed at the end of the run.

Most suites are parametrized, so each test is one thing tried (the conftest counts their
outcomes); a test that tries many things itself (the fuzzer) counts them here too.
"""

from __future__ import annotations

from collections import Counter

TRIED: Counter[str] = Counter()
HELD: Counter[str] = Counter()


def tried(suite: str, count: int = 1) -> None:
    TRIED[suite] += count


def held(suite: str, count: int = 1) -> None:
    HELD[suite] += count


def lines() -> list[str]:
    """One ``suite: tried N, held M`` line per suite, in name order."""
    return [f"{suite}: tried {TRIED[suite]}, held {HELD[suite]}" for suite in sorted(TRIED)]
