"""The native C model (the exported kernels built for the host) scores exactly like TFLite Micro."""

from __future__ import annotations

import numpy as np
import pytest

from kws.firmware_export.hostbuild import find_cc
from kws.model import KwsModel

pytestmark = pytest.mark.skipif(find_cc() is None, reason="gcc not installed (apt-get install gcc)")


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    from kws.model_native import NativeModel

    reference = KwsModel.load("commands")
    return reference, NativeModel(reference, cache_dir=tmp_path_factory.mktemp("native"))


def test_native_model_equals_tflite_micro(models, speech_commands_dir):
    from kws.clips import fit_to_clip
    from kws.audio import read_audio
    from kws.frontend import compute_features_many

    reference, native = models
    paths = sorted(speech_commands_dir.glob("*/*.wav"))[::40]
    clips = [fit_to_clip(read_audio(p, 16000), 16000) for p in paths]
    real = np.stack(compute_features_many(clips))
    rng = np.random.default_rng(3)
    random = rng.integers(-128, 128, (40, 49, 10), dtype=np.int8)
    random[0], random[1] = -128, 127
    for features in (real, random):
        expected = reference.scores_batch(features)
        got = native.scores_batch(features)
        bad = np.argwhere(got != expected)
        assert bad.size == 0, f"clip {bad[0][0]}, class {bad[0][1]}: C {got[tuple(bad[0])]}, TFLM {expected[tuple(bad[0])]}"
    assert native.labels == reference.labels and native.frontend == reference.frontend


def test_native_model_refuses_wrong_shapes(models):
    from kws.errors import ModelError

    _, native = models
    with pytest.raises(ModelError, match="features must be int8"):
        native.scores(np.zeros((48, 10), np.int8))


def test_detect_gives_the_same_detections_with_either_engine(tmp_path):
    import json

    from kws.cli import main

    from pathlib import Path

    demo = str(Path(__file__).resolve().parents[1] / "kws" / "data" / "demo_commands_in_speech.wav")
    outputs = []
    for flag in ([], ["--reference-model"]):
        out = tmp_path / f"d{len(outputs)}.json"
        assert main(["detect", "commands", demo, "--json", str(out), *flag]) == 0
        outputs.append(json.loads(out.read_text()))
    assert outputs[0] == outputs[1] and outputs[0]
