"""KwsModel: loading and checks, and int8 scores from TFLite Micro that follow the float model."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from kws.config import FrontendConfig, config_hash
from kws.errors import ModelError
from kws.model import (CONFIG_FILE, TFLITE_FILE, KwsModel, ModelConfig, read_model_config, shipped_models,
                       write_model_config)

FRONTEND = FrontendConfig()
LABELS = ["alpha", "beta", "gamma", "delta"]
REPO = Path(__file__).resolve().parents[1]


def synthetic_features(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """int8 features of ``len(LABELS)`` classes: class k raises MFCC k+1 in the middle frames."""
    rng = np.random.default_rng(seed)
    classes = rng.integers(0, len(LABELS), size=n)
    real = rng.normal(-30.0, 8.0, size=(n, 49, 10))
    real[np.arange(n), 12:37, classes + 1] += 22.0
    codes = np.round(real / FRONTEND.feature_scale) + FRONTEND.feature_zero_point
    return np.clip(codes, -128, 127).astype(np.int8), classes


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny_conv trained for a few epochs, its int8 conversion, and a run folder holding both."""
    keras = pytest.importorskip("keras")
    from kws.frontend import dequantize_features
    from kws.training.models import build_model
    from kws.training.quantize import convert_to_int8

    keras.utils.set_random_seed(1)
    x, y = synthetic_features(600, seed=1)
    model = build_model("tiny_conv", n_classes=len(LABELS), dropout=0.0)
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy")
    model.fit(dequantize_features(x), y, epochs=3, batch_size=32, verbose=0)
    tflite = convert_to_int8(model, x[:100], FRONTEND)
    run = tmp_path_factory.mktemp("run")
    (run / TFLITE_FILE).write_bytes(tflite)
    write_model_config(run, labels=LABELS, frontend=FRONTEND, architecture="tiny_conv", params={"dropout": 0.0})
    return model, tflite, run


def test_config_round_trip(tmp_path):
    path = write_model_config(tmp_path, labels=LABELS, frontend=FRONTEND, architecture="ds_cnn", params={"width": 48})
    data = json.loads(path.read_text())
    assert data["labels"] == LABELS and data["frontend_hash"] == config_hash(FRONTEND)
    assert data["frontend"] == FRONTEND.to_dict() and data["architecture"] == "ds_cnn"
    config = read_model_config(tmp_path)
    assert config == ModelConfig(labels=tuple(LABELS), frontend=FRONTEND, architecture="ds_cnn",
                                 extra={"params": {"width": 48}})


def test_edited_frontend_hash_refused(tmp_path):
    path = write_model_config(tmp_path, labels=LABELS, frontend=FRONTEND, architecture="x")
    data = json.loads(path.read_text())
    data["frontend"]["hop_ms"] = 10
    path.write_text(json.dumps(data))
    with pytest.raises(ModelError, match=f"{CONFIG_FILE}.*frontend_hash"):
        read_model_config(path)


def test_int8_scores_follow_float_model(trained):
    model, _, run = trained
    from kws.frontend import dequantize_features

    kws_model = KwsModel.load(run)
    x, y = synthetic_features(200, seed=7)
    scores = kws_model.scores_batch(x)
    assert scores.shape == (200, len(LABELS)) and scores.dtype == np.int8
    float_top = np.argmax(np.asarray(model(dequantize_features(x), training=False)), axis=1)
    int8_top = np.argmax(scores, axis=1)
    assert np.mean(float_top == int8_top) >= 0.9
    assert np.mean(int8_top == y) >= 0.8  # the model learnt something, so the agreement is meaningful
    assert kws_model.predict_labels(x[:5]) == [LABELS[i] for i in int8_top[:5]]
    probabilities = kws_model.probabilities(scores)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=0.05)


def test_scores_are_deterministic(trained):
    _, tflite, run = trained
    x, _ = synthetic_features(20, seed=3)
    first = KwsModel.load(run)
    batch = first.scores_batch(x)
    np.testing.assert_array_equal(batch, first.scores_batch(x))
    np.testing.assert_array_equal(batch, np.stack([first.scores(f) for f in x]))
    np.testing.assert_array_equal(batch, KwsModel.load(run / TFLITE_FILE).scores_batch(x))
    assert first.scores(x[0]).dtype == np.int8 and first.scores(x[0]).shape == (len(LABELS),)


def test_load_tflite_without_config_needs_labels(trained, tmp_path):
    _, tflite, _ = trained
    bare = tmp_path / "bare.tflite"
    bare.write_bytes(tflite)
    with pytest.raises(ModelError, match="labels"):
        KwsModel.load(bare)
    model = KwsModel.load(bare, labels=LABELS)
    assert model.labels == tuple(LABELS) and model.architecture == "unknown"
    with pytest.raises(ModelError, match="output shape"):
        KwsModel.load(bare, labels=LABELS[:3])


def test_load_shipped_model_by_name(trained, tmp_path, monkeypatch):
    import kws.model

    _, _, run = trained
    shipped = tmp_path / "models"
    (shipped / "tiny").mkdir(parents=True)
    for name in (TFLITE_FILE, CONFIG_FILE):
        (shipped / "tiny" / name).write_bytes((run / name).read_bytes())
    monkeypatch.setattr(kws.model, "SHIPPED_MODELS_DIR", shipped)
    assert shipped_models() == ["tiny"]
    assert KwsModel.load("tiny").labels == tuple(LABELS)
    with pytest.raises(ModelError, match="shipped models: tiny"):
        KwsModel.load("no_such_model")


def test_frontend_mismatch_refused_naming_settings(trained, tmp_path):
    _, tflite, _ = trained
    (tmp_path / TFLITE_FILE).write_bytes(tflite)
    other = FrontendConfig(hop_ms=10, lower_hz=60.0)
    write_model_config(tmp_path, labels=LABELS, frontend=other, architecture="tiny_conv")
    with pytest.raises(ModelError) as error:
        KwsModel.load(tmp_path)
    message = str(error.value)
    assert "front-end mismatch" in message and "hop_ms" in message and "lower_hz" in message
    assert "window_ms" not in message
    assert str(tmp_path) in message


def test_input_quantization_mismatch_refused(trained):
    _, tflite, _ = trained
    shifted = FrontendConfig(feature_zero_point=60)  # same hash on both sides, but not the model's input format
    config = ModelConfig(labels=tuple(LABELS), frontend=shifted, architecture="tiny_conv")
    with pytest.raises(ModelError, match="input quantization"):
        KwsModel(tflite, config, running_frontend=shifted, source="shifted.tflite")


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty"])
def test_bad_tflite_file_names_the_file(trained, tmp_path, damage):
    _, tflite, _ = trained
    data = {"garbage": bytes(range(256)) * 8, "truncated": tflite[: len(tflite) // 3], "empty": b""}[damage]
    path = tmp_path / TFLITE_FILE
    path.write_bytes(data)
    write_model_config(tmp_path, labels=LABELS, frontend=FRONTEND, architecture="tiny_conv")
    with pytest.raises(ModelError, match=str(path)):
        KwsModel.load(tmp_path)


def test_missing_sources_refused(tmp_path):
    with pytest.raises(ModelError, match="no such model"):
        KwsModel.load(tmp_path / "nothing_here")
    (tmp_path / "empty_run").mkdir()
    with pytest.raises(ModelError, match=TFLITE_FILE):
        KwsModel.load(tmp_path / "empty_run")


def test_bad_features_refused(trained):
    model = KwsModel.load(trained[2])
    x, _ = synthetic_features(2, seed=0)
    with pytest.raises(ModelError, match="int8"):
        model.scores(x[0].astype(np.int16))
    with pytest.raises(ModelError, match=r"\[49, 10\]"):
        model.scores(x[0, :40])
    with pytest.raises(ModelError, match=r"\[n, 49, 10\]"):
        model.scores_batch(x[0])


def test_runtime_never_imports_tensorflow(trained):
    run = trained[2]
    code = (
        "import sys, numpy as np\n"
        "from kws.model import KwsModel\n"
        "import kws.evaluation, kws.commands.eval\n"
        f"m = KwsModel.load({str(run)!r})\n"
        "print(m.scores(np.zeros((49, 10), np.int8)).tolist())\n"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'TensorFlow imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
