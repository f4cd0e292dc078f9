"""The errors the command line turns into one Dutch line and an exit status, kept apart from
the modules that raise them so that the command line can know them without loading those."""

from __future__ import annotations


class ActionError(ValueError):
    """An action on a question that cannot be done (unknown question, not a contact person,
    wrong status): one Dutch line saying why; exit status 2."""
