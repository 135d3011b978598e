"""Hard-negative mining: the windows of training speech where the model fires become negatives."""

import numpy as np

from kws.audio import read_audio
from kws.config import FrontendConfig
from kws.training.hard_negatives import HardNegativeMiner, firing_windows

FRONTEND = FrontendConfig()


def test_firing_windows_follow_the_inference_frames():
    frames = FRONTEND.frames_per_clip
    ends = np.array([frames - 1, frames + 9, frames + 19])
    scores = np.array([100, 10, 120], np.int8)
    fired = firing_windows(ends, scores, 90, FRONTEND, n_samples=FRONTEND.clip_samples + 20 * FRONTEND.hop_samples)
    assert fired == [(0, 100), (20 * FRONTEND.hop_samples, 120)]
    # a window that would run past the audio is dropped
    assert firing_windows(ends, scores, 90, FRONTEND, n_samples=FRONTEND.clip_samples) == [(0, 100)]


def test_the_highest_scoring_windows_are_written_listed_and_restored(tmp_path):
    rng = np.random.default_rng(0)
    speech = [rng.integers(-3000, 3000, 3 * 16000, dtype=np.int16), rng.integers(-3000, 3000, 2 * 16000,
                                                                                   dtype=np.int16)]
    period = 10  # frames between inferences
    hot = {(0, 3): 120, (0, 7): 95, (1, 2): 110}  # (recording, inference) -> smoothed phrase score

    def score(model, pcm):  # a stand-in model: fires at three known inferences
        recording = 0 if pcm.size == speech[0].size else 1
        ends = np.arange(FRONTEND.frames_per_clip - 1, pcm.size // FRONTEND.hop_samples - 1, period)
        smoothed = np.full((ends.size, 3), -128, np.int8)
        for (i, inference), value in hot.items():
            if i == recording:
                smoothed[inference, 2] = value
        return ends, smoothed

    miner = HardNegativeMiner(speech, ["s1", "s2"], FRONTEND, label_index=2, threshold_int8=100, max_windows=5,
                              cache_dir=tmp_path / "cache", run_dir=tmp_path)
    mined = miner.mine(None, epoch=4, score=score)
    assert len(mined) == 2 and [r.speaker for r in mined] == ["s1", "s2"]  # 120 before 110; 95 is below 100
    first = read_audio(mined[0].path, 16000)
    start = 3 * period * FRONTEND.hop_samples  # inference 3 ends 3 periods after the first full window
    np.testing.assert_array_equal(first, speech[0][start:start + FRONTEND.clip_samples])
    assert all(r.label == "_unknown_" for r in mined)
    capped = HardNegativeMiner(speech, ["s1", "s2"], FRONTEND, 2, 100, 1, tmp_path / "cache", tmp_path)
    assert len(capped.mine(None, epoch=8, score=score)) == 1
    assert [r.path for r in miner.restore(4)] == [r.path for r in mined]
    assert len(miner.restore(8)) == 3 and miner.restore(3) == []
