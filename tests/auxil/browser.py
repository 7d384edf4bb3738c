"""This module contains what the browser tests share: Debian's chromium, never a downloaded one.

CI installs chromium (.ci/run) and sets SPORTELLO_REQUIRE_CHROMIUM, so there a missing browser
fails the tests instead of skipping them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
#: Screenshots and PDFs the tests leave for people to look at (ignored by git).
ARTIFACTS = Path(__file__).parent.parent / "artifacts"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists() and not os.environ.get("SPORTELLO_REQUIRE_CHROMIUM"),
    reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)",
)
