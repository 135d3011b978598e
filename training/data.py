"""Assemble a training run's examples: real clips, synthetic speech and silence.

Validation is always the held-out speakers of the real set (clean clips only);
every other source contributes training examples only, and only from the
training side of the same speaker split.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from kws.datasets.folders import SpeakerSplit, load_label_folders, speaker_position, split_by_fold, split_by_speaker
from kws.datasets.manifest import ClipRecord
from kws.datasets.paths import data_root
from kws.errors import DataError
from kws.training.config import TrainConfig
from kws.training.features import MUSIC_PREFIX, SILENCE_PREFIX, silence_level_suffix

SOURCE_NOISE = "noise"
"""Source of generated ``_silence_`` examples (real noise at random gain); used by every ablation."""
MAX_CLIPS_PER_EXTRA_FOLDER = 300


@dataclasses.dataclass
class RunData:
    train: list[ClipRecord]
    validation: list[ClipRecord]
    bad_files: list[tuple[str, str]]


def _resolve(folder: str) -> Path:
    path = Path(folder)
    return path if path.is_absolute() else data_root() / path


def speaker_split(records: list[ClipRecord], config: TrainConfig) -> SpeakerSplit:
    """The run's speaker rule, for the main real folder and every extra one alike."""
    if config.all_speakers:
        split = SpeakerSplit(train=list(records), validation=[])
    elif config.folds:
        split = split_by_fold(records, config.folds, config.fold, salt=config.split_salt)
    else:
        split = split_by_speaker(records, config.validation_fraction, salt=config.split_salt)
    if config.real_speaker_share < 1.0:
        share_salt = "share:" + config.split_salt
        kept = [r for r in split.train if speaker_position(r.speaker, salt=share_salt) < config.real_speaker_share]
        split = SpeakerSplit(train=kept, validation=split.validation)
    return split


def real_split(config: TrainConfig) -> tuple[list[ClipRecord], list[ClipRecord], list[tuple[str, str]]]:
    """Speaker-disjoint (train, validation) records of ``config.real_data``, plus bad files."""
    folder = _resolve(config.real_data)
    if not folder.is_dir():
        raise DataError(f"{folder}: real data folder not found (set KWS_DATA or real_data)")
    labels = [label for label in config.labels if config.real_silence or label != "_silence_"]
    load = load_label_folders(folder, labels=labels)
    split = speaker_split(load.records, config)
    return list(split.train), list(split.validation), [(b.path, b.reason) for b in load.bad_files]


def extra_real(config: TrainConfig, rng: np.random.Generator) -> tuple[list[ClipRecord], list[tuple[str, str]]]:
    """Training-side records of the extra real folders (keywords keep their label, the rest is _unknown_)."""
    records, bad = [], []
    for name in config.extra_real:
        folder = _resolve(name)
        if not folder.is_dir():
            print(f"note: extra real folder {folder} not found, skipped")
            continue
        words = sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
        mapping = {w: (w if w in config.keywords else "_unknown_") for w in words}
        load = load_label_folders(folder, labels=mapping)
        train_side = list(speaker_split(load.records, config).train)
        unknown = [r for r in train_side if r.label == "_unknown_"]
        if len(unknown) > MAX_CLIPS_PER_EXTRA_FOLDER:  # keep one folder from swamping _unknown_
            keep = set(rng.choice(len(unknown), MAX_CLIPS_PER_EXTRA_FOLDER, replace=False).tolist())
            unknown = [r for i, r in enumerate(unknown) if i in keep]
        records += [r for r in train_side if r.label != "_unknown_"] + unknown
        bad += [(b.path, b.reason) for b in load.bad_files]
    return records, bad


def mined_real(config: TrainConfig) -> tuple[list[ClipRecord], list[tuple[str, str]]]:
    """Training-side records of words mined from ``config.mined_speech`` (other words as ``_unknown_``, at most
    ``mined_unknown_max`` evenly spread; keyword sound-alikes only with ``mined_keywords``)."""
    from kws.datasets.word_mining import mined_folder
    from kws.evaluation import spread

    records, bad = [], []
    for name in config.mined_speech:
        folder = mined_folder(_resolve(name), config.cache_dir, config.keywords, jobs=config.jobs)
        words = sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
        mapping = {w: (w if config.mined_keywords else None) if w in config.keywords else "_unknown_"
                   for w in words}
        load = load_label_folders(folder, labels=mapping)
        train_side = list(speaker_split(load.records, config).train)
        unknown = spread([r for r in train_side if r.label == "_unknown_"], config.mined_unknown_max)
        records += [r for r in train_side if r.label != "_unknown_"] + unknown
        bad += [(b.path, b.reason) for b in load.bad_files]
    return records, bad


def synthetic(config: TrainConfig) -> list[ClipRecord]:
    """Synthetic keyword and unknown-word clips (generated once, then cached)."""
    from kws.datasets.synth import synthesize
    from kws.datasets.words import unknown_words

    words: dict[str, object] = {kw: kw for kw in config.keywords}
    per_label: dict[str, int] = {kw: config.synthetic_per_keyword for kw in config.keywords}
    if "_unknown_" in config.labels and config.synthetic_unknown > 0:
        words["_unknown_"] = unknown_words(list(config.keywords), seed=config.seed)
        per_label["_unknown_"] = config.synthetic_unknown
    out_dir = Path(config.cache_dir) / "synth"
    return synthesize(words, per_label, out_dir, seed=config.seed, engines=list(config.synth_engines),
                      weights=dict(config.synth_engine_weights) or None, voice_draw=config.synth_voice_draw,
                      jobs=config.jobs, progress=True)


def silence(config: TrainConfig) -> list[ClipRecord]:
    """Generated ``_silence_`` examples (their audio is made by the featuriser from background noise)."""
    if "_silence_" not in config.labels:
        return []
    level = silence_level_suffix(config.silence_rms_dbfs)
    noise = [ClipRecord(path=f"{SILENCE_PREFIX}{config.seed}:{i}{level}", label="_silence_", speaker="noise",
                        source=SOURCE_NOISE) for i in range(config.silence_examples)]
    music_level = silence_level_suffix(config.synthetic_music_rms_dbfs)
    music = [ClipRecord(path=f"{MUSIC_PREFIX}{config.seed}:{i}{music_level}", label="_silence_", speaker="music",
                        source=SOURCE_NOISE) for i in range(config.synthetic_music_examples)]
    return noise + music


def assemble(config: TrainConfig) -> RunData:
    """Every training and validation record of a run."""
    rng = np.random.default_rng(config.seed)
    train, validation, bad = real_split(config)
    if config.use_real:
        extra, extra_bad = extra_real(config, rng)
        mined, mined_bad = mined_real(config)
        train += extra + mined
        bad += extra_bad + mined_bad
    else:
        train = [r for r in train if r.label == "_silence_"]  # real silence is noise, not speech
    if config.use_synthetic:
        train += synthetic(config)
    train += silence(config)
    unknown_labels = sorted({r.label for r in train} - set(config.labels))
    if unknown_labels:
        raise DataError(f"training records have labels not in the config: {unknown_labels}")
    return RunData(train=train, validation=validation, bad_files=bad)
