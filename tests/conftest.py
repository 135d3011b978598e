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


@pytest.fixture
def model_with_other_frontend(tmp_path) -> Path:
    """A copy of the shipped `commands` model that says it was trained on 32 mel bands (the
    running front end has 40): what every loader and exporter must refuse."""
    import json
    import shutil

    from kws.config import frontend_from_dict

    model_dir = tmp_path / "other_frontend"
    shutil.copytree(Path(__file__).resolve().parents[1] / "kws" / "models" / "commands", model_dir)
    config = json.loads((model_dir / "config.json").read_text())
    config["frontend"]["n_mel"] = 32
    config["frontend_hash"] = frontend_from_dict(config["frontend"]).config_hash()
    (model_dir / "config.json").write_text(json.dumps(config))
    return model_dir
