"""Where the tests find things: the checkout, its fixtures, and what may lie beside it."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
SAMPLE = ROOT / "bot" / "sample"
SHARED = ROOT.parent / "shared"
CORPUS = Path(os.environ.get("BVHK_MAIL_CORPUS", SHARED / "corpora" / "mail"))
