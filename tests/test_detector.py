"""DetectorConfig, the integer Detector, its vectorised replay, and Stream (schedule + chunking)."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from kws.config import FrontendConfig
from kws.detector import (THRESHOLD_NEVER, Detection, Detector, DetectorConfig, detector_from_dict,
                          parse_thresholds, probability_to_int8, read_detector_config, replay, smooth_scores,
                          write_detector_config)
from kws.errors import ConfigError

FE = FrontendConfig()
LABELS = ("_silence_", "_unknown_", "yes", "no")


def test_config_is_frozen_keyword_only_with_docstrings():
    config = DetectorConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.refractory_ms = 5  # type: ignore[misc]
    with pytest.raises(TypeError):
        DetectorConfig(100)  # type: ignore[misc]
    source = open(__import__("kws.detector").detector.__file__).read()
    for field in dataclasses.fields(DetectorConfig):
        assert f"{field.name}:" in source and '"""' in source.split(f"    {field.name}:")[1].split("\n")[1]


def test_config_json_round_trip_and_hash(tmp_path):
    config = DetectorConfig(smoothing_inferences=4, thresholds_int8={"yes": 70, "no": 90}, refractory_ms=500)
    assert config.thresholds_int8 == (("no", 90), ("yes", 70))
    path = write_detector_config(tmp_path / "detector.json", config)
    assert read_detector_config(path) == config
    assert read_detector_config(path).config_hash() == config.config_hash()
    assert config.config_hash() != DetectorConfig().config_hash()
    data = json.loads(path.read_text())
    data["refractory_ms"] = 700
    path.write_text(json.dumps(data))
    with pytest.raises(ConfigError, match="config_hash"):
        read_detector_config(path)


@pytest.mark.parametrize("bad, match", [
    ({"inference_period_ms": 0}, "inference_period_ms"),
    ({"smoothing_inferences": 0}, "smoothing_inferences"),
    ({"min_consecutive_hits": 0}, "min_consecutive_hits"),
    ({"refractory_ms": -1}, "refractory_ms"),
    ({"default_threshold_int8": 129}, "threshold"),
    ({"thresholds_int8": {"yes": 0.5}}, "threshold of 'yes'"),
    ({"bogus": 1}, "unknown key"),
])
def test_config_rejects_bad_values(bad, match):
    with pytest.raises(ConfigError, match=match):
        detector_from_dict(bad)


def test_detector_rejects_unknown_label_and_off_hop_period():
    with pytest.raises(ConfigError, match="unknown label"):
        Detector(DetectorConfig(thresholds_int8={"maybe": 0}), LABELS, FE)
    with pytest.raises(ConfigError, match="multiple"):
        Detector(DetectorConfig(inference_period_ms=30), LABELS, FE)


def test_probability_conversion():
    assert probability_to_int8(0.5) == 0
    assert probability_to_int8(0.75) == 64
    assert probability_to_int8(0.0) == -128
    assert probability_to_int8(1.0) == THRESHOLD_NEVER
    assert parse_thresholds(["yes=0.9"], LABELS) == {"yes": 102}  # 0.9 * 256 = 230.4 -> 230 - 128
    for bad in ["yes", "maybe=0.5", "yes=x", "yes=1.5"]:
        with pytest.raises(ConfigError):
            parse_thresholds([bad], LABELS)


def test_integer_rules_by_hand():
    """Smoothing rounds half up in offset units; min hits; refractory in hops; best label fires."""
    config = DetectorConfig(smoothing_inferences=2, default_threshold_int8=10, min_consecutive_hits=2,
                            refractory_ms=200)  # 10 hops
    det = Detector(config, LABELS, FE)

    def step(yes, no, frame, silence=127):
        return det.process(np.array([silence, -128, yes, no], np.int8), frame)

    assert step(10, -128, 48) == []          # count 1: smoothed yes = 10 -> hit 1
    assert list(det.smoothed) == [127, -128, 10, -128]
    got = step(9, -128, 53)                  # (138 + 137 + 1) // 2 - 128 = 10 (9.5 rounds up): 2nd hit fires
    assert got == [Detection("yes", (53 * 320 + 480) / 16000, 10)]
    det.reset()
    assert step(9, -128, 48) == [] and step(8, -128, 53) == []  # (137 + 136 + 1) // 2 - 128 = 9: no hit
    det.reset()
    assert step(11, -128, 48) == []
    got = step(10, -128, 53)                 # smoothed (139 + 138 + 1)//2 - 128 = 11 >= 10, 2 hits -> fire
    assert got == [Detection("yes", (53 * 320 + 480) / 16000, 11)]
    assert step(127, -128, 58) == []         # blocked: 58 - 53 < 10
    assert step(127, -128, 63) == []         # unblocked, counter 1
    assert step(127, 127, 68) == [Detection("yes", (68 * 320 + 480) / 16000, 127)]  # tie: lower index wins
    det.reset()
    assert step(9, -128, 48) == [] and step(10, -128, 53) == []  # (137 + 138 + 1)//2 - 128 = 10: hit 1 after a miss


def test_ignored_labels_never_fire():
    det = Detector(DetectorConfig(min_consecutive_hits=1, default_threshold_int8=-128), LABELS, FE)
    out = det.process(np.array([127, 127, -128, -128], np.int8), 48)
    assert [d.label for d in out] == ["yes"]  # silence/unknown are ignored even at 127


@pytest.mark.parametrize("seed", range(4))
def test_replay_equals_detector(seed):
    rng = np.random.default_rng(seed)
    config = DetectorConfig(smoothing_inferences=int(rng.integers(1, 5)), min_consecutive_hits=int(rng.integers(1, 4)),
                            refractory_ms=int(rng.choice([0, 100, 300, 1000])),
                            thresholds_int8={"yes": int(rng.integers(-20, 60)), "no": int(rng.integers(-20, 60))})
    n = 600
    scores = np.clip(np.cumsum(rng.integers(-40, 41, size=(n, len(LABELS))), axis=0), -128, 127).astype(np.int8)
    frames = 48 + 5 * np.arange(n)
    det = Detector(config, LABELS, FE)
    expected = []
    for i, (row, frame) in enumerate(zip(scores, frames)):
        for d in det.process(row, int(frame)):
            expected.append((i, LABELS.index(d.label), d.score))
    smoothed = smooth_scores(scores, config.smoothing_inferences)
    assert replay(smoothed, frames, config, LABELS, FE) == expected
    assert expected  # the random walk does cross the thresholds
