"""Shared test fixtures: where the real shared recordings are."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def shared_data_root() -> Path:
    env = os.environ.get("KWS_DATA")
    return Path(env) if env else REPO.parent / "shared" / "data" / "real"


@pytest.fixture(scope="session")
def real_data() -> Path:
    root = shared_data_root()
    if not root.is_dir():
        pytest.skip(f"real recordings not found at {root} (set KWS_DATA)")
    return root


@pytest.fixture(scope="session")
def speech_commands_dir(real_data) -> Path:
    folder = real_data / "speech_commands_v0.02_test"
    if not folder.is_dir():
        pytest.skip(f"{folder} not found")
    return folder
