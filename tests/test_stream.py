"""Stream: the inference schedule of kws.streaming, chunking invariance, short input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kws.audio import read_audio
from kws.detector import DetectorConfig, model_detector_config
from kws.model import KwsModel
from kws.streaming import Stream, stream_inferences

DEMO = Path(__file__).resolve().parents[1] / "kws" / "data" / "demo"


@pytest.fixture(scope="module")
def model():
    return KwsModel.load("commands")


@pytest.fixture(scope="module")
def pcm():
    return np.concatenate([read_audio(p) for p in sorted(DEMO.glob("*/*.wav"))])


def feed(stream, pcm, rng, max_chunk):
    out, i = [], 0
    while i < len(pcm):
        n = int(rng.integers(0, max_chunk + 1))
        out += stream.process(pcm[i : i + n])
        i += n
    return out


def test_stream_runs_the_reference_schedule(model, pcm):
    config = DetectorConfig(inference_period_ms=60)
    stream = Stream(model, config, record_scores=True)
    stream.process(pcm)
    reference = stream_inferences(model, pcm, 3)
    assert stream.frames.tolist() == [r.frame for r in reference]
    assert np.array_equal(stream.scores, np.stack([r.scores for r in reference]))


@pytest.mark.parametrize("seed, max_chunk", [(0, 7), (1, 700), (2, 20000)])
def test_stream_output_identical_for_any_chunking(model, pcm, seed, max_chunk):
    config = DetectorConfig()
    whole = Stream(model, config, record_scores=True)
    expected = whole.process(pcm)
    assert len(expected) >= 5  # the demo clips are mostly detected
    piece = pcm if max_chunk > 100 else pcm[: 3 * 16000]
    if piece is not pcm:
        whole.reset()
        expected = whole.process(piece)
    chunked = Stream(model, config, record_scores=True)
    assert feed(chunked, piece, np.random.default_rng(seed), max_chunk) == expected
    assert np.array_equal(chunked.scores, whole.scores)
    chunked.reset()
    assert chunked.process(piece) == expected  # reset starts a fresh stream


def test_native_frontend_stream_identical(model, pcm):
    from kws.errors import BuildError
    from kws.frontend.native import NativeStreamingFrontend

    try:
        frontend = NativeStreamingFrontend(model.frontend)
    except (BuildError, OSError) as exc:
        pytest.skip(f"native front end unavailable: {exc}")
    expected = Stream(model, DetectorConfig()).process(pcm)
    stream = Stream(model, DetectorConfig(), frontend=frontend)
    assert feed(stream, pcm, np.random.default_rng(5), 3000) == expected


def test_shorter_than_one_window_gives_nothing(model):
    stream = Stream(model, DetectorConfig(), record_scores=True)
    assert stream.process(np.zeros(15000, np.int16)) == []
    assert len(stream.scores) == 0



def test_shipped_model_has_a_detector_config():
    config = model_detector_config("commands")
    assert config.thresholds_int8  # calibrated per label
    assert set(dict(config.thresholds_int8)) <= set(KwsModel.load("commands").labels)
