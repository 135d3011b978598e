"""The shipped `commands` model: size budgets, loading by name, and its published figures reproduced."""

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from kws.cli import main
from kws.model import KwsModel, shipped_models

SHIPPED = Path(__file__).resolve().parents[1] / "kws" / "models" / "commands"
DEMO = Path(__file__).resolve().parents[1] / "kws" / "data" / "demo"


def test_shipped_folder_fits_its_budgets():
    assert "commands" in shipped_models()
    assert sum(p.stat().st_size for p in SHIPPED.iterdir()) <= 100 * 1024
    metrics = json.loads((SHIPPED / "metrics.json").read_text())
    assert metrics["int8_weight_bytes"] <= 20_000
    assert metrics["int8_drop_points"] <= 0.5
    model = KwsModel.load("commands")
    assert model.labels[:2] == ("_silence_", "_unknown_") and model.n_classes == 12


def test_eval_by_name_on_bundled_demo_clips(tmp_path):
    out = tmp_path / "demo.json"
    assert main(["eval", "commands", "--data", str(DEMO), "--json", str(out), "--plot", str(tmp_path / "c.png")]) == 0
    result = json.loads(out.read_text())
    assert result["n"] == 12 and result["bad_files"] == []
    assert result["accuracy"] >= 0.75  # one clip per class; the model is ~92% accurate


def test_published_validation_accuracy_is_reproduced(speech_commands_dir):
    """Recompute metrics.json's int8 accuracy on the same speaker-disjoint split, with TFLite Micro."""
    from kws.training.config import train_config_from_dict
    from kws.training.data import real_split
    from kws.audio import read_audio
    from kws.evaluation import evaluate_clips

    config = train_config_from_dict(json.loads((SHIPPED / "train_config.json").read_text()))
    config = dataclasses.replace(config, real_data=str(speech_commands_dir))
    _, validation, _ = real_split(config)
    model = KwsModel.load("commands")
    result = evaluate_clips(model, [read_audio(r.path) for r in validation], [r.label for r in validation])
    metrics = json.loads((SHIPPED / "metrics.json").read_text())
    assert result.n == metrics["n_validation"]
    assert result.accuracy == pytest.approx(metrics["int8_val_accuracy"], abs=1e-4)
    assert np.array_equal(result.confusion, np.array(metrics["confusion"]))
