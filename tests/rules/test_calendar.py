"""Due dates in Dutch working days: weekends and public holidays are skipped."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from rules import due_date


@pytest.mark.parametrize(("start", "days", "due"), [
    (date(2027, 4, 26), 1, date(2027, 4, 28)),  # Koningsdag, Tuesday 27 April 2027
    (date(2027, 4, 23), 2, date(2027, 4, 28)),  # Friday: Monday, (Koningsdag), Wednesday
    (datetime(2026, 12, 24, 15, 30), 1, date(2026, 12, 28)),  # Christmas 2026: Friday and Saturday
    (date(2026, 12, 21), 10, date(2027, 1, 6)),  # Christmas and New Year 2027 (a Friday)
    (date(2027, 3, 26), 1, date(2027, 3, 30)),  # Easter Monday 29 March 2027
    (date(2027, 5, 5), 1, date(2027, 5, 7)),  # Ascension Day, Thursday 6 May 2027
    (date(2027, 5, 14), 1, date(2027, 5, 18)),  # Whit Monday 17 May 2027
    (date(2025, 5, 2), 1, date(2025, 5, 6)),  # Liberation Day 2025: a lustrum year
    (date(2026, 5, 4), 1, date(2026, 5, 5)),  # Liberation Day 2026: a working day
    (date(2027, 3, 25), 1, date(2027, 3, 26)),  # Good Friday: a working day
])
def test_holidays_are_skipped(start, days, due):
    assert due_date(start, days) == due


@pytest.mark.parametrize(("start", "days", "due"), [
    (date(2026, 3, 6), 1, date(2026, 3, 9)),  # Friday -> Monday
    (date(2026, 3, 7), 1, date(2026, 3, 9)),  # Saturday -> Monday
    (date(2026, 3, 7), 0, date(2026, 3, 9)),  # 0 days on a Saturday: the next working day
    (date(2026, 3, 4), 0, date(2026, 3, 4)),
    (date(2026, 3, 2), 10, date(2026, 3, 16)),
])
def test_weekends_are_skipped(start, days, due):
    assert due_date(start, days) == due


def test_the_day_counts_in_dutch_time():
    just_after_midnight = datetime(2026, 3, 4, 23, 30, tzinfo=timezone.utc)  # Thursday 00:30 in Amsterdam
    assert due_date(just_after_midnight, 1) == date(2026, 3, 6)
    assert due_date(datetime(2026, 3, 4, 22, 30, tzinfo=timezone.utc), 1) == date(2026, 3, 5)
    assert due_date(datetime(2026, 3, 4, 23, 30), 1) == date(2026, 3, 5)  # naive: taken as Dutch time


def test_negative_days_are_refused():
    with pytest.raises(ValueError):
        due_date(date(2026, 3, 2), -1)
