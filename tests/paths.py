"""Where the tests find things: the checkout, its fixtures, and what may lie beside it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
SAMPLE = ROOT / "bot" / "sample"
SHARED = ROOT.parent / "shared"
CORPUS = Path(os.environ.get("BVHK_MAIL_CORPUS", SHARED / "corpora" / "mail"))


def require_corpus(relative: str = "") -> Path:
    """The shared mail corpus (or a file in it). A test that needs it skips when it is not
    beside the checkout, with one line saying so; under CI=true it fails instead, as the
    tests that need a server do."""
    path = CORPUS / relative
    if path.exists():
        return path
    reason = (f"mail corpus not found at {path} (../shared/corpora/mail beside the checkout, "
              "or set BVHK_MAIL_CORPUS)")
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)
