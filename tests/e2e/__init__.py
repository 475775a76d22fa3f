"""Browser tests: Playwright driving Debian's chromium against a real ``runwbm`` server."""

from __future__ import annotations
