"""Two-stage detection: a wake word opens a short window in which a command is taken.

"computer, lights on": the wake-word model listens all the time; only after it fires is a
command of the ``commands`` model accepted, for ``listen_s`` seconds, and the first one closes
the window. Commands outside a window are dropped, which removes most false commands of
conversation and ambience (the wake word's false-accept rate bounds how often a window opens).

Both streams see every sample (the command model needs its window of frames to be full the
moment the wake word fires); a device would share one front end between the two models when
their front ends are equal, as they are for the shipped models.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from kws.detector import Detection
from kws.streaming import Stream

#: Seconds after a wake detection during which a command is accepted.
DEFAULT_LISTEN_S = 3.0
#: Probability a command needs inside a window. The command model's own thresholds are calibrated
#: for few false accepts per hour of ungated audio; behind a wake word the false-accept rate is
#: bounded by the wake word's, so the gated stage can take a command on a lower score.
DEFAULT_GATED_PROBABILITY = 0.75


def gated_detector_config(config, model, probability: float = DEFAULT_GATED_PROBABILITY):
    """``config`` with every command label's threshold set to ``probability`` (in the model's int8 units)."""
    from kws.detector import probability_to_int8

    value = probability_to_int8(probability, model.output_scale, model.output_zero_point)
    return config.with_thresholds({label: value for label in model.labels if label not in config.ignored_labels})


class TwoStageEvent(NamedTuple):
    """A wake word (``command`` is None) or a command heard in the window the wake word opened."""

    wake: Detection
    command: Detection | None

    @property
    def label(self) -> str:
        return self.wake.label if self.command is None else f"{self.wake.label}, {self.command.label}"

    @property
    def time_s(self) -> float:
        return (self.command or self.wake).time_s

    @property
    def score(self) -> int:
        return (self.command or self.wake).score


class WakeThenCommand:
    """Feed audio of any chunking; get wake events and the commands they gate.

    Parameters
    ----------
    wake, command : Stream
        Streams of the wake-word model and of the command model (same sample rate).
    listen_s : float
        Length of the command window opened by each wake detection.
    """

    def __init__(self, wake: Stream, command: Stream, *, listen_s: float = DEFAULT_LISTEN_S):
        if wake.model.frontend.sample_rate_hz != command.model.frontend.sample_rate_hz:
            raise ValueError(f"wake model at {wake.model.frontend.sample_rate_hz} Hz but command model at "
                             f"{command.model.frontend.sample_rate_hz} Hz: both must take the same audio")
        if listen_s <= 0:
            raise ValueError(f"listen_s {listen_s}: must be > 0")
        self.wake, self.command, self.listen_s = wake, command, float(listen_s)
        self._sample_rate_hz = wake.model.frontend.sample_rate_hz
        # the window is compared in samples (as the C export does), not in float seconds
        self.listen_samples = round(self.listen_s * self._sample_rate_hz)
        self.reset()

    def reset(self) -> None:
        self.wake.reset()
        self.command.reset()
        self._open: Detection | None = None  # the wake detection whose window is open

    @property
    def listening(self) -> bool:
        """True while a wake word's command window is open."""
        return self._open is not None

    def process(self, pcm_chunk: np.ndarray) -> list[TwoStageEvent]:
        events = []
        heard = [(d.time_s, 0, d) for d in self.wake.process(pcm_chunk)]
        heard += [(d.time_s, 1, d) for d in self.command.process(pcm_chunk)]
        for time_s, is_command, detection in sorted(heard, key=lambda item: (item[0], item[1])):
            if self._open is not None and \
                    round((time_s - self._open.time_s) * self._sample_rate_hz) > self.listen_samples:
                self._open = None  # the window passed without a command
            if not is_command:
                self._open = detection
                events.append(TwoStageEvent(detection, None))
            elif self._open is not None:
                events.append(TwoStageEvent(self._open, detection))
                self._open = None
        return events
