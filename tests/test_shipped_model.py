"""The shipped `commands` model: size budgets, loading by name, and its published figures reproduced."""

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
    recipe = json.loads((SHIPPED / "train_config.json").read_text())
    assert model.min_keyword_probability == recipe["min_keyword_probability"] > 0  # decides as it was measured


def test_eval_by_name_on_bundled_demo_clips(tmp_path):
    out = tmp_path / "demo.json"
    assert main(["eval", "commands", "--data", str(DEMO), "--json", str(out), "--plot", str(tmp_path / "c.png")]) == 0
    result = json.loads(out.read_text())
    assert result["n"] == 12 and result["bad_files"] == []
    assert result["accuracy"] >= 0.75  # one clip per class; the recipe is ~89 % accurate on new speakers


def test_published_figures_are_reproduced(speech_commands_dir, monkeypatch):
    """Recompute metrics.json's int8 figures with TFLite Micro from the recipe in train_config.json.

    The shipped model trains on every speaker (its accuracy on new speakers is the recipe's
    cross-validated figure), so what is left to reproduce is what it held out: the ``_silence_``
    clips and ambience windows cut from the held-out noise recordings.
    """
    from kws.evaluation import evaluate_clips
    from kws.training.config import train_config_from_dict
    from kws.training.data import real_split
    from kws.training.validation import held_out_audio, robustness_metrics

    monkeypatch.setenv("KWS_DATA", str(speech_commands_dir.parent))
    config = train_config_from_dict(json.loads((SHIPPED / "train_config.json").read_text()))
    assert config.all_speakers and config.noise_folds >= 2
    _, validation, _ = real_split(config)
    assert validation == []  # every speaker trained
    model = KwsModel.load("commands")
    held = held_out_audio(config, model.frontend)
    metrics = json.loads((SHIPPED / "metrics.json").read_text())
    silence = evaluate_clips(model, held.silence, ["_silence_"] * len(held.silence))
    assert silence.n == metrics["n_validation"] == config.validation_silence
    assert silence.accuracy == pytest.approx(metrics["int8_val_accuracy"], abs=1e-4)
    robustness = robustness_metrics(model, [], np.zeros(0, np.int64), held, config, model.frontend)
    assert robustness["ambience_false_command_rate"] == metrics["robustness"]["ambience_false_command_rate"]
    assert robustness["noise_held_out"] == metrics["robustness"]["noise_held_out"]
