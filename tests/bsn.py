"""Invented BSNs for the tests, made independently of the product's eleven-test
(`classifiers.text.is_bsn`), so that the tests that use them check it rather than repeat it.

A BSN's ninth digit d9 makes 9·d1 + 8·d2 + … + 2·d8 − d9 a multiple of 11."""

from __future__ import annotations

import random

WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2)


def complete(first_eight: list[int] | tuple[int, ...]) -> str | None:
    """The BSN that begins with these eight digits, or None when no ninth digit makes one."""
    check = sum(d * w for d, w in zip(first_eight, WEIGHTS)) % 11
    if check == 10 or not any(first_eight):
        return None
    return "".join(map(str, first_eight)) + str(check)


def invented(rng: random.Random) -> str:
    """A valid BSN that begins with a digit from 1 to 9."""
    while True:
        number = complete([rng.randint(1, 9)] + [rng.randint(0, 9) for _ in range(7)])
        if number:
            return number


def well_formed(number: str) -> bool:
    """The eleven-test, written out here apart from the product's."""
    digits = [int(c) for c in number]
    return len(digits) == 9 and complete(digits[:8]) == number
