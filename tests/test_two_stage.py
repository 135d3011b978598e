"""Two-stage detection: only commands inside the window a wake word opened come out."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from kws.detector import Detection
from kws.two_stage import WakeThenCommand


class ScriptedStream:
    """A stand-in for kws.streaming.Stream that reports given detections when their time is reached."""

    def __init__(self, detections: list[Detection], rate_hz: int = 16000):
        self.detections = detections
        self.model = SimpleNamespace(frontend=SimpleNamespace(sample_rate_hz=rate_hz))
        self.reset()

    def reset(self) -> None:
        self.samples = 0

    def process(self, pcm: np.ndarray) -> list[Detection]:
        before, self.samples = self.samples, self.samples + pcm.size
        return [d for d in self.detections if before / 16000 < d.time_s <= self.samples / 16000]


def run(wake: list[Detection], commands: list[Detection], chunk: int, listen_s: float = 3.0):
    gate = WakeThenCommand(ScriptedStream(wake), ScriptedStream(commands), listen_s=listen_s)
    pcm = np.zeros(16000 * 20, np.int16)
    return [e for i in range(0, pcm.size, chunk) for e in gate.process(pcm[i : i + chunk])]


@pytest.mark.parametrize("chunk", [160, 1600, 16000 * 20])
def test_commands_count_only_in_the_window_a_wake_word_opened(chunk):
    wake = [Detection("computer", 2.0, 100), Detection("computer", 10.0, 90)]
    commands = [Detection("yes", 1.0, 120),    # before any wake word: dropped
                Detection("on", 2.8, 110),     # 0.8 s after the wake word: taken, closes the window
                Detection("off", 3.5, 110),    # window already closed by "on": dropped
                Detection("go", 14.5, 110)]    # 4.5 s after the second wake word: too late
    events = run(wake, commands, chunk)
    assert [e.label for e in events] == ["computer", "computer, on", "computer"]
    assert events[1].wake.time_s == 2.0 and events[1].time_s == 2.8 and events[1].score == 110


def test_a_longer_window_takes_the_late_command_and_a_new_wake_word_restarts_it():
    wake = [Detection("computer", 2.0, 100), Detection("computer", 4.0, 95)]
    commands = [Detection("go", 6.5, 110)]
    assert [e.label for e in run(wake, commands, 1600, listen_s=3.0)] == ["computer", "computer", "computer, go"]
    assert [e.label for e in run(wake, commands, 1600, listen_s=2.0)] == ["computer", "computer"]


def test_models_of_different_sample_rates_are_refused():
    with pytest.raises(ValueError, match="same audio"):
        WakeThenCommand(ScriptedStream([], 16000), ScriptedStream([], 8000))
    with pytest.raises(ValueError, match="listen_s"):
        WakeThenCommand(ScriptedStream([]), ScriptedStream([]), listen_s=0)


def test_gated_thresholds_replace_the_calibrated_ones_for_commands_only():
    from kws.detector import model_detector_config, probability_to_int8
    from kws.model import KwsModel
    from kws.two_stage import gated_detector_config

    model = KwsModel.load("commands")
    calibrated = model_detector_config(model.source)
    gated = dict(gated_detector_config(calibrated, model, 0.75).thresholds_int8)
    assert set(gated) >= set(model.labels[2:]) and gated["stop"] == probability_to_int8(0.75) == 64
    assert not set(gated) & set(calibrated.ignored_labels)  # _silence_ / _unknown_ never trigger anyway
    assert gated_detector_config(calibrated, model, 0.75).smoothing_inferences == calibrated.smoothing_inferences
