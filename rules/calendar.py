"""Due dates in Dutch working days.

A working day is a weekday that is not a public holiday in the Netherlands as the
`holidays` package defines them: New Year, Easter Monday, King's Day, Liberation Day (only
in lustrum years, 2025, 2030, ...), Ascension Day, Whit Monday and both Christmas days.
Good Friday, which the package also lists, is a working day here: it is no general day
off in the Netherlands, nor a holiday of the Algemene termijnenwet that sets government
deadlines.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from dateutil.easter import easter

DUTCH_TIME = ZoneInfo("Europe/Amsterdam")


def due_date(start: datetime | date, business_days: int) -> date:
    """The `business_days`-th working day after the day of `start` (in Dutch time).

    With 0: that day itself, or the next working day when it is a weekend day or holiday.
    """
    if business_days < 0:
        raise ValueError("business_days must be 0 or more")
    day = _dutch_day(start)
    remaining = business_days
    if remaining == 0:
        while not is_working_day(day):
            day += timedelta(days=1)
    while remaining:
        day += timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    return day


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _public_holidays(day.year)


@lru_cache(maxsize=64)
def _public_holidays(year: int) -> frozenset[date]:
    listed = holidays.country_holidays("NL", years=year)
    good_friday = easter(year) - timedelta(days=2)
    return frozenset(day for day in listed if day != good_friday)


def _dutch_day(start: datetime | date) -> date:
    if isinstance(start, datetime):
        return (start.astimezone(DUTCH_TIME) if start.tzinfo else start).date()
    return start
