"""scripts/wakeword_robustness.py: the conditions it builds are the ones it names."""

import importlib.util
from pathlib import Path

import numpy as np

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "wakeword_robustness.py"
spec = importlib.util.spec_from_file_location("wakeword_robustness", SCRIPT)
robustness = importlib.util.module_from_spec(spec)
spec.loader.exec_module(robustness)


def power_db(x):
    return 10 * np.log10(np.mean(np.square(x.astype(np.float64))))


def test_clips_are_levelled_and_the_background_is_scaled_to_the_snr():
    from kws.stream_eval import Background

    rng = np.random.default_rng(0)
    clips = [np.round(rng.standard_normal(8000) * g).astype(np.int16) for g in (30.0, 3000.0)]  # -60 / -20 dBFS
    background = [np.round(rng.standard_normal(16000 * 20) * 1000).astype(np.int16)]
    for snr_db in (None, 10.0, 0.0):
        placed = []
        stream = np.concatenate(list(robustness.condition_stream(clips, "alexa", Background(background), snr_db,
                                                                  16000, placed)))
        assert [p.label for p in placed] == ["alexa", "alexa"]
        for clip, p in zip(clips, placed):
            start, end = round(p.start_s * 16000), round(p.end_s * 16000)
            mixed = stream[start:end].astype(np.float64)
            clean = robustness.at_level(clip)
            assert abs(power_db(clean) - (power_db(np.full(1, 32768.0)) + robustness.CLIP_RMS_DBFS)) < 0.1
            if snr_db is None:
                assert np.allclose(mixed, np.round(clean), atol=1)  # over digital silence
                assert not stream[start - 16000 : start].any()  # the 1-3 s gap before it is silent
            else:
                assert abs(power_db(clean) - power_db(mixed - clean) - snr_db) < 0.2


def test_reverberation_keeps_the_length_and_adds_a_tail():
    clip = np.zeros(16000, np.int16)
    clip[1000] = 20000
    [wet] = robustness.reverberant([clip], 0.6, 16000, seed=0)
    assert wet.shape == clip.shape and np.count_nonzero(wet[1100:]) > 1000
