"""Hard-negative mining for wake words: where the model fires on real speech, that speech becomes a negative.

The training speakers' speech is already cut into windows every ``speech_window_hop_ms``, but the device
runs the model every ``inference_period_ms`` at alignments those windows may miss, and a false accept is the
one alignment that scores highest. After chosen epochs the model runs the device's schedule over the whole
training speech; every window whose smoothed phrase score reaches the mining threshold is written once (a
WAV in the cache, named by its content) and joins the ``_unknown_`` training examples, with augmented copies.
The mined windows are listed in the run folder (``hard_negatives.json``), so ``--resume`` restores them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Callable

import numpy as np

from kws.config import FrontendConfig
from kws.datasets.manifest import SOURCE_REAL, ClipRecord
from kws.fileio import write_json_atomic

HARD_NEGATIVES_FILE = "hard_negatives.json"


def firing_windows(ends: np.ndarray, scores: np.ndarray, threshold_int8: int, frontend: FrontendConfig,
                   n_samples: int) -> list[tuple[int, int]]:
    """``(first sample, score)`` of the model window of every inference whose score reaches ``threshold_int8``.

    ``ends`` are the inferences' last feature frames; a window of ``frames_per_clip`` frames ending at frame
    ``e`` starts at sample ``(e - frames_per_clip + 1) * hop``. Windows that would run past the audio are
    dropped.
    """
    hop, n = frontend.hop_samples, frontend.clip_samples
    hits = np.nonzero(scores >= threshold_int8)[0]
    starts = [((int(ends[i]) - frontend.frames_per_clip + 1) * hop, int(scores[i])) for i in hits]
    return [(s, score) for s, score in starts if 0 <= s and s + n <= n_samples]


@dataclasses.dataclass
class HardNegativeMiner:
    """Mines the training speech with the model being trained; see the module docstring."""

    speech_pcm: list[np.ndarray]
    """The training speakers' recordings, int16, one array per file (windows never straddle two)."""
    speakers: list[str]
    """Speaker of each recording (for the records' ``speaker``)."""
    frontend: FrontendConfig
    label_index: int
    threshold_int8: int
    max_windows: int
    cache_dir: Path
    run_dir: Path

    def mine(self, model, epoch: int, score: Callable) -> list[ClipRecord]:
        """Windows of the training speech where ``model`` fires (``score(model, pcm) -> (ends, smoothed)``),
        at most ``max_windows`` (the highest-scoring), written to the cache and listed in the run folder."""
        from kws.audio import write_wav

        found = []  # (score, recording, start)
        for i, pcm in enumerate(self.speech_pcm):
            ends, smoothed = score(model, pcm)
            column = smoothed[:, self.label_index] if len(ends) else np.zeros(0)
            found += [(score, i, start) for start, score in
                      firing_windows(ends, column, self.threshold_int8, self.frontend, pcm.size)]
        found.sort(key=lambda row: -row[0])
        records = []
        n = self.frontend.clip_samples
        for _, i, start in found[:self.max_windows]:
            window = self.speech_pcm[i][start:start + n]
            key = hashlib.sha1(window.tobytes()).hexdigest()[:20]
            path = self.cache_dir / "hard_negatives" / f"{key}.wav"
            if not path.is_file():
                write_wav(path, window, self.frontend.sample_rate_hz)
            records.append(ClipRecord(path=str(path), label="_unknown_", speaker=self.speakers[i], source=SOURCE_REAL,
                                      meta={"kind": "hard_negative", "epoch": epoch}))
        self._save(epoch, records, len(found))
        return records

    def restore(self, up_to_epoch: int) -> list[ClipRecord]:
        """The windows mined after epochs ``<= up_to_epoch`` of an interrupted run (for ``--resume``)."""
        rounds = self._load()
        return [ClipRecord(path=path, label="_unknown_", speaker=speaker, source=SOURCE_REAL,
                           meta={"kind": "hard_negative", "epoch": r["epoch"]})
                for r in rounds if r["epoch"] <= up_to_epoch for path, speaker in r["windows"]]

    def _load(self) -> list[dict]:
        path = self.run_dir / HARD_NEGATIVES_FILE
        return json.loads(path.read_text())["rounds"] if path.is_file() else []

    def _save(self, epoch: int, records: list[ClipRecord], n_firing: int) -> None:
        rounds = [r for r in self._load() if r["epoch"] < epoch]
        rounds.append({"epoch": epoch, "firing_windows": n_firing,
                       "windows": [[r.path, r.speaker] for r in records]})
        write_json_atomic(self.run_dir / HARD_NEGATIVES_FILE, {
            "rule": f"smoothed phrase score >= int8 {self.threshold_int8} on the training speech, device schedule",
            "rounds": rounds})
