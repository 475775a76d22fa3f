from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def system_dir(settings, tmp_path: Path) -> Path:
    """Every test renders into a directory of its own."""
    settings.WBM_SYSTEM_DIR = tmp_path / "system"
    settings.WBM_NETWORK_CONFIRM_S = 90
    return tmp_path / "system"
