"""``kws train-wakeword``: a wake-phrase detector from synthetic speech, chosen and calibrated on real audio.

A run, for a phrase such as ``"alexa"`` (labels ``_silence_``, ``_unknown_``, ``alexa``):

1. **Checks.** The phrase must hold letters an engine can speak (ASCII letters, digits,
   apostrophes, hyphens); a very common word is accepted with a warning (it will false-trigger).
2. **Window.** A few clips of the phrase are rendered (every engine) and timed after trimming;
   the model's window (``FrontendConfig.clip_duration_ms``) is 1 s when the 95th percentile of
   their durations leaves room in 1 s, else that duration plus a margin, in 100 ms steps.
3. **Positives.** The phrase from the voices and settings of ``kws synth`` (cached); voices are
   split by a hash of their id into training, checkpoint selection and report.
4. **Negatives** (``_unknown_``): confusable phrases derived from the phrase
   (:mod:`kws.datasets.confusables`), common words (:mod:`kws.datasets.words`), the real words of
   ``speech_commands_v0.02_test`` and windows of the continuous read speech of the training
   speakers of ``speechocean762``; ``_silence_``: background noise and training ambience.
5. **Splits of the real negatives.** The ``speechocean762`` speakers (and the ambience
   recordings) are dealt, by a hash of their names, into *train*, *select* (checkpoint
   selection), *calibrate* (detector threshold) and *report* (final figures); none overlap.
   ``splits.json`` in the run lists them.
6. **Training** with the augmentation chain and the feature cache of ``kws train``; after each
   epoch the float model is streamed (device schedule: model every ``inference_period_ms``,
   integer smoothing and hits) over the *select* speech and over the held-out synthetic
   positives placed in *select* ambience and logged; the model kept is the last epoch's
   (``selection_rule = "last"``), or the epoch with the fewest false accepts per hour at
   ``selection_probability`` then the lowest FRR (``fa_then_frr``), or the lowest FRR at the
   calibrated operating point (``frr_at_target``). Optionally the windows of training speech where
   the model fires join the negatives after chosen epochs (``hard_negative_epochs``), and layers
   of the real-speech start keep their weights (``init_frozen``).
7. **int8, calibration, report.** The kept model is quantised; its int8 model (TFLite Micro
   arithmetic) is streamed over the *calibrate* speech and ambience and the lowest threshold
   whose false accepts per hour stay within ``target_fa_per_hour`` goes into ``detector.json``;
   the *report* speech and ambience and the report voices give FRR and FA/h and ``det_curve.png``.

The run folder is a ``kws train`` run folder (``model_int8.tflite``, ``config.json``,
``metrics.json``, ``training_curves.png``, ``detector.json``, ``checkpoint/``), so ``kws detect``,
``listen``, ``eval-stream`` and ``export`` take it unchanged; ``--resume`` continues after the last
finished epoch.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re
import time
import warnings
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable

import numpy as np

from kws.config import FrontendConfig, from_dict
from kws.datasets.manifest import SOURCE_REAL, SOURCE_SYNTHETIC, ClipRecord
from kws.datasets.paths import data_root
from kws.errors import ConfigError, DataError
from kws.fileio import atomic_dir, atomic_path, write_json_atomic
from kws.training.augment import AugmentConfig
from kws.training.config import TrainConfig, jsonable, read_toml, train_config_from_dict
from kws.training.transfer import check_init_run, transfer_weights

WAKEWORD_CONFIG_FILE = "wakeword_config.json"
SELECTION_FILE = "selection.json"
#: Checkpoint-selection rules (``WakewordConfig.selection_rule``) and how ``selection.json`` states them.
SELECTION_RULE_TEXT = {
    "fa_then_frr": "fewest false accepts per hour on the select speakers, then lowest FRR on the select voices",
    "frr_at_target": "lowest FRR of the select voices at the threshold calibrated on the select speakers for "
                     "target_fa_per_hour, then fewest false accepts per hour",
    "last": "the last epoch",
}
SELECTION_RULES = tuple(SELECTION_RULE_TEXT)
SPLITS_FILE = "splits.json"
BEST_DIR = "best"
ROLES = ("train", "select", "calibrate", "report")
#: Characters a phrase may hold (what every ``kws synth`` engine reads as English).
_SPEAKABLE = re.compile(r"[A-Za-z0-9' \-]")
#: Punctuation dropped from a phrase before checking it.
_IGNORED_PUNCTUATION = ".,!?;:\"()"
#: Words so frequent in speech that a detector for them fires on conversation.
FREQUENT_WORDS = frozenset((
    "the", "a", "an", "and", "or", "but", "is", "are", "was", "be", "to", "of", "in", "on", "at", "it", "i",
    "you", "he", "she", "we", "they", "this", "that", "yes", "no", "ok", "okay", "hey", "hi", "hello", "so",
    "well", "right", "yeah", "what", "go", "stop", "up", "down", "now", "please", "thanks", "one", "two",
))  # fmt: skip


@dataclasses.dataclass(frozen=True, kw_only=True)
class WakewordConfig:
    """How to train one wake-phrase detector (TOML: these keys, plus ``[train]`` for :class:`TrainConfig`
    with its ``[train.model]`` and ``[train.augment]`` and ``[detector]`` for :class:`DetectorConfig`)."""

    positives: int = 3000
    """Synthetic clips of the phrase (every engine and voice setting of ``kws synth``)."""
    select_voice_fraction: float = 0.1
    """Share of TTS voices whose clips are held out for checkpoint selection (FRR)."""
    report_voice_fraction: float = 0.1
    """Share of TTS voices whose clips are held out for the final report (FRR)."""
    confusable_phrases: int = 80
    """Distinct confusable texts derived from the phrase."""
    confusable_clips: int = 1500
    """Synthetic clips of the confusable texts (``_unknown_``)."""
    common_word_clips: int = 1000
    """Synthetic clips of common words (``_unknown_``)."""
    real_unknown: str = "speech_commands_v0.02_test"
    """Folder (under $KWS_DATA, or absolute) of ``<word>/*`` real clips, all ``_unknown_`` (a folder named
    like the phrase is left out)."""
    real_unknown_max: int = 0
    """At most this many real unknown clips (0 = all)."""
    negative_speech: str = "speech/speechocean762"
    """Folder of ``<speaker>/*`` continuous speech without the phrase (under $KWS_DATA, or absolute)."""
    speaker_split: tuple[int, int, int, int] = (16, 6, 9, 9)
    """Speakers of ``negative_speech`` for (train, select, calibrate, report), dealt by a hash of their ids."""
    ambience: str = "ambient"
    """Folder of ambience recordings (under $KWS_DATA, or absolute), dealt like the speakers."""
    ambience_split: tuple[int, int, int, int] = (7, 4, 4, 4)
    """Ambience recordings for (train, select, calibrate, report)."""
    speech_window_hop_ms: int = 500
    """Hop between the training windows cut from the training speakers' speech."""
    max_speech_windows: int = 3000
    """At most this many training speech windows (evenly spread)."""
    noise_folders: tuple[str, ...] = ("background_noise",)
    """Noise recordings (under $KWS_DATA) for ``_silence_`` and augmentation, besides the training ambience."""
    silence_examples: int = 600
    """Generated ``_silence_`` examples."""
    clip_duration_ms: int = 0
    """Model window in ms; 0 = from the 95th percentile of the phrase's TTS durations."""
    duration_probe_clips: int = 40
    """Clips rendered to measure the phrase's duration."""
    positive_augment_variants: int = 3
    """Augmented copies per positive clip (plus the clean one)."""
    negative_augment_variants: int = 1
    """Augmented copies per negative clip (plus the clean one)."""
    selection_positives_snr_db: float = 10.0
    """SNR of the held-out positives against the ambience they are placed in, for selection."""
    selection_probability: float = 0.8
    """Threshold (probability) at which checkpoints are compared (``selection_rule = "fa_then_frr"``)."""
    selection_rule: str = "last"
    """How checkpoints are compared: ``fa_then_frr``, fewest false accepts per hour on the select speech at
    ``selection_probability``, then the lowest FRR of the select voices; or ``frr_at_target``, the lowest FRR
    of the select voices at the lowest threshold whose FA/h on the select speech stays within
    ``target_fa_per_hour`` (the operating point calibration will give), then fewer FA/h at p 0.8; or ``last``,
    the last epoch (the end of the learning-rate schedule; the selection figures are still logged)."""
    calibrate_with_selection_audio: bool = True
    """The selection speakers' speech and ambience also calibrate the threshold (with the calibration audio:
    0.43 h of negatives instead of 0.24 h, where a quarter of an hour sets thresholds that miss the target both
    ways). Under ``selection_rule = "last"`` they choose nothing else; under the other rules they also choose
    the epoch."""
    target_fa_per_hour: float = 0.5
    """False accepts per hour the calibrated threshold aims at."""
    min_threshold_probability: float = 0.5
    """Never calibrate the threshold below this probability."""
    hard_negative_epochs: tuple[int, ...] = ()
    """After these epochs the model runs the device schedule over the training speakers' speech, and the
    windows where it fires join the ``_unknown_`` examples (hard-negative mining,
    :mod:`kws.training.hard_negatives`); empty = off."""
    hard_negative_probability: float = 0.5
    """A window is mined when the phrase's smoothed score reaches this probability."""
    hard_negative_max_windows: int = 1000
    """At most this many mined windows per round (the highest-scoring)."""
    hard_negative_variants: int = 2
    """Augmented copies per mined window (plus the clean one)."""
    detector_search: tuple[tuple[int, int], ...] = ((3, 2), (2, 2), (3, 1), (2, 1))
    """``(smoothing_inferences, min_consecutive_hits)`` pairs tried on the trained model: each is calibrated
    like the final threshold, and the one missing the fewest selection voices (in selection ambience at
    10 dB and over selection speech) goes into ``detector.json``; empty = the ``[detector]`` table as is."""
    max_int8_weight_bytes: int = 20480
    """Refuse an architecture whose int8 weights exceed this."""
    engines: tuple[str, ...] = ("espeak", "flite", "piper")
    """TTS engines (missing ones are skipped with a warning)."""
    engine_weights: dict = dataclasses.field(default_factory=dict)
    """Share of the synthetic clips per engine (e.g. ``{kokoro = 0.3, espeak = 0.4}``); empty = the
    defaults of :data:`kws.datasets.synth.DEFAULT_ENGINE_WEIGHTS`."""
    kokoro_mix_rounds: int = 3
    """Two-voice Kokoro mixes in rounds of 10 (each pair once per round, a random weight and a speed): more
    rounds, more Kokoro voices; the default 3 gives the 45 specs of ``kws synth`` (5 voices x 3 speeds + 30)."""
    init_from: str = ""
    """A ``kws train`` run folder (its ``model.keras``, same front end and architecture) trained on real
    speech: every layer but the classifier starts from its weights; empty = random start."""
    init_frozen: tuple[str, ...] = ()
    """Name prefixes of layers that keep the ``init_from`` weights and are not trained (e.g. ``["conv0",
    "block1a"]``: the lower layers stay what real voices taught them); empty = all layers train."""
    seed: int = 0
    """Seed of every random choice."""
    jobs: int = 2
    """Worker processes for synthesis and features."""
    cache_dir: str = ".cache/kws"
    """Synthetic clips, speech windows and features are cached here."""
    detector: dict = dataclasses.field(default_factory=lambda: {"inference_period_ms": 200})
    """DetectorConfig settings of the run (thresholds are calibrated)."""
    train: TrainConfig = dataclasses.field(default_factory=lambda: TrainConfig(
        architecture="tc_resnet", model={"separable": True, "channels": [20, 32, 40, 56], "dropout": 0.1},
        epochs=30, batch_size=128, learning_rate=0.005, augment=AugmentConfig(babble_probability=0.4)))
    """Model, optimiser and augmentation settings (labels are set from the phrase)."""

    def __post_init__(self) -> None:
        for name in ("positives", "confusable_clips", "common_word_clips", "real_unknown_max", "max_speech_windows",
                     "silence_examples", "duration_probe_clips", "positive_augment_variants",
                     "negative_augment_variants", "confusable_phrases", "kokoro_mix_rounds"):
            if getattr(self, name) < 0:
                raise ConfigError(f"WakewordConfig: {name} must be >= 0")
        if self.positives < 3:
            raise ConfigError("WakewordConfig: positives must be >= 3 (train, select and report voices)")
        for name in ("select_voice_fraction", "report_voice_fraction"):
            if not 0.0 < getattr(self, name) < 0.5:
                raise ConfigError(f"WakewordConfig: {name} must be in (0, 0.5)")
        for name in ("speaker_split", "ambience_split"):
            value = getattr(self, name)
            if len(value) != 4 or any(v < 1 for v in value):
                raise ConfigError(f"WakewordConfig: {name} must be 4 counts >= 1 (train, select, calibrate, report)")
        if self.clip_duration_ms and (self.clip_duration_ms < 500 or self.clip_duration_ms % 20):
            raise ConfigError("WakewordConfig: clip_duration_ms must be 0 (auto) or >= 500 and a multiple of 20")
        if self.speech_window_hop_ms < 20:
            raise ConfigError("WakewordConfig: speech_window_hop_ms must be >= 20")
        if not 0.0 < self.selection_probability < 1.0 or not 0.0 <= self.min_threshold_probability < 1.0:
            raise ConfigError("WakewordConfig: selection_probability and min_threshold_probability must be in (0, 1)")
        if self.target_fa_per_hour <= 0:
            raise ConfigError("WakewordConfig: target_fa_per_hour must be > 0")
        if any(e < 1 for e in self.hard_negative_epochs) or not 0.0 < self.hard_negative_probability < 1.0 \
                or self.hard_negative_max_windows < 1 or self.hard_negative_variants < 0:
            raise ConfigError("WakewordConfig: hard_negative_epochs must be >= 1, hard_negative_probability in "
                              "(0, 1), hard_negative_max_windows >= 1 and hard_negative_variants >= 0")
        if self.init_frozen and not self.init_from:
            raise ConfigError("WakewordConfig: init_frozen needs init_from (the weights to keep)")
        if self.selection_rule not in SELECTION_RULES:
            raise ConfigError(f"WakewordConfig: selection_rule {self.selection_rule!r} is not one of "
                              f"{', '.join(SELECTION_RULES)}")
        if any(len(pair) != 2 or min(pair) < 1 for pair in self.detector_search):
            raise ConfigError("WakewordConfig: detector_search takes [smoothing_inferences, min_consecutive_hits] "
                              "pairs, each >= 1")
        detector_config(self)  # validate the [detector] table now

    @property
    def weights(self) -> dict[str, float] | None:
        """Engine shares for kws synth (None = its defaults)."""
        return dict(self.engine_weights) or None

    def to_dict(self) -> dict[str, Any]:
        return jsonable(dataclasses.asdict(self))


def wakeword_config_from_dict(data: dict[str, Any], *, where: str = "wakeword config") -> WakewordConfig:
    data = dict(data)
    train = train_config_from_dict(data.pop("train", {}) or {}, where=f"{where} [train]") \
        if "train" in data else WakewordConfig().train
    detector = data.pop("detector", {"inference_period_ms": 200})
    if not isinstance(detector, dict):
        raise ConfigError(f"{where}: 'detector' must be a table")
    return from_dict(WakewordConfig, {**data, "train": train, "detector": detector}, where=where)


def load_wakeword_config(path: str | Path) -> WakewordConfig:
    """Read a TOML wake-word config; unknown keys and wrong types raise ``ConfigError`` naming them."""
    return wakeword_config_from_dict(read_toml(path), where=str(path))


def detector_config(config: WakewordConfig):
    from kws.detector import detector_from_dict

    return detector_from_dict(dict(config.detector), where="wakeword config [detector]")


# ---------------------------------------------------------------------------
# The phrase


@dataclasses.dataclass(frozen=True)
class Phrase:
    text: str
    """What the engines are asked to say (lower case, single spaces)."""
    label: str
    """The model's keyword label (spaces and hyphens become ``_``)."""
    warnings: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        """How a folder of real recordings of the phrase would be named."""
        return tuple(dict.fromkeys((self.label, self.text)))


def check_phrase(phrase: str) -> Phrase:
    """Normalise a wake phrase; raise :class:`ConfigError` for one no engine can say.

    Raises
    ------
    ConfigError
        empty phrase, or characters outside ASCII letters, digits, apostrophes and hyphens (named).
    """
    text = " ".join(str(phrase).translate(str.maketrans("", "", _IGNORED_PUNCTUATION)).split()).lower()
    if not text:
        raise ConfigError(f"wake phrase {phrase!r} is empty: give the words to detect, e.g. \"alexa\"")
    bad = sorted({ch for ch in text if not _SPEAKABLE.fullmatch(ch)})
    if bad:
        raise ConfigError(f"wake phrase {phrase!r}: characters no TTS engine of kws synth can speak: "
                          f"{', '.join(repr(ch) for ch in bad)} (use English letters, digits, ' and -)")
    if not re.search(r"[a-z0-9]", text):
        raise ConfigError(f"wake phrase {phrase!r} has no letters or digits to say")
    label = re.sub(r"[^a-z0-9]+", "_", text).strip("_")
    notes = []
    words = re.findall(r"[a-z0-9']+", text)
    from kws.datasets.words import COMMON_WORDS, SPEECH_COMMANDS_WORDS

    if len(words) == 1 and (text in FREQUENT_WORDS or text in COMMON_WORDS or text in SPEECH_COMMANDS_WORDS):
        notes.append(f"{text!r} is a very common word: a detector for it will false-trigger on ordinary speech; "
                     f"prefer a rarer word or a two-word phrase")
    elif len(text.replace(" ", "")) <= 3:
        notes.append(f"{text!r} is very short: expect false triggers; prefer a longer phrase")
    return Phrase(text=text, label=label, warnings=tuple(notes))


# ---------------------------------------------------------------------------
# Splits of the real negative audio


def _folder(name: str) -> Path:
    path = Path(name)
    return path if path.is_absolute() else data_root() / path


def _hash_order(names: list[str], salt: str) -> list[str]:
    return sorted(names, key=lambda n: hashlib.sha1(f"{salt}:{n}".encode()).hexdigest())


def deal(names: list[str], counts: tuple[int, ...], salt: str, what: str) -> dict[str, list[str]]:
    """Deal ``names`` into the four roles by a hash of each name (sorted inside each role)."""
    if len(names) < sum(counts):
        raise DataError(f"{what}: {len(names)} found, the split {tuple(counts)} needs {sum(counts)}")
    order = _hash_order(sorted(names), salt)
    out, start = {}, 0
    for role, count in zip(ROLES, counts):
        out[role] = sorted(order[start:start + count])
        start += count
    return out


@dataclasses.dataclass
class Splits:
    speech: dict[str, list[str]]
    """Role -> speaker folders (absolute)."""
    ambience: dict[str, list[str]]
    """Role -> ambience files (absolute)."""
    noise_names: list[str]
    """Noise recordings (``folder/file``) for augmentation and ``_silence_``: noise folders + training ambience."""

    def to_dict(self) -> dict:
        return {"speech": self.speech, "ambience": self.ambience, "training_noise": self.noise_names}


def negative_splits(config: WakewordConfig) -> Splits:
    from kws.audio import AUDIO_EXTENSIONS
    from kws.datasets.noise import noise_recording_names

    speech_root = _folder(config.negative_speech)
    if not speech_root.is_dir():
        raise DataError(f"{speech_root}: negative speech folder not found (set KWS_DATA or negative_speech)")
    speakers = [p.name for p in speech_root.iterdir() if p.is_dir() and not p.name.startswith(".")]
    speech = {role: [str(speech_root / s) for s in names]
              for role, names in deal(speakers, config.speaker_split, "speakers", str(speech_root)).items()}
    ambience_root = _folder(config.ambience)
    if not ambience_root.is_dir():
        raise DataError(f"{ambience_root}: ambience folder not found (set KWS_DATA or ambience)")
    files = [p.name for p in ambience_root.iterdir() if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS]
    ambience = {role: [str(ambience_root / f) for f in names]
                for role, names in deal(files, config.ambience_split, "ambience", str(ambience_root)).items()}
    noise = noise_recording_names(config.noise_folders) if config.noise_folders else []
    train_ambience = [f"{config.ambience}/{Path(p).name}" for p in ambience["train"]]
    return Splits(speech=speech, ambience=ambience, noise_names=noise + train_ambience)


def audio_of(paths: list[str], rate: int) -> list[np.ndarray]:
    """int16 PCM of every audio file in ``paths`` (folders searched), resampled and downmixed."""
    from kws.stream_eval import audio_files, read_negatives

    pcm, bad = read_negatives(audio_files(paths, "negative"), rate)
    for b in bad:
        print(f"skipped negative file {b.path}: {b.reason}")
    return pcm


# ---------------------------------------------------------------------------
# Synthetic speech


def probe_durations(phrase: Phrase, config: WakewordConfig, log: Callable[[str], None]) -> tuple[list[float], dict]:
    """Durations (s, silence trimmed) of ``duration_probe_clips`` renderings of the phrase, and per-engine failures."""
    import tempfile

    from kws.audio import resample
    from kws.datasets.synth import ENGINE_CLASSES, SAMPLE_RATE_HZ, check_engines, plan_clips, trim_silence

    available, skipped = check_engines(config.engines)
    for message in skipped:
        log(f"warning: {message}")
    if not available:
        raise DataError("no TTS engine available: " + "; ".join(skipped))
    jobs = plan_clips({phrase.label: phrase.text}, config.duration_probe_clips, seed=config.seed + 17,
                      engines=available, weights={name: 1.0 for name in available})
    durations, failures, engines = [], {}, {}
    with tempfile.TemporaryDirectory(prefix="kws-probe-") as workdir:
        for job in jobs:
            name = job.spec.engine
            try:
                engine = engines.setdefault(name, ENGINE_CLASSES[name]())
                samples, rate = engine.synthesize(job.text, job.spec, seed=job.seed, workdir=Path(workdir))
                speech = trim_silence(resample(samples, rate, SAMPLE_RATE_HZ), SAMPLE_RATE_HZ)
                if speech.size == 0:
                    raise DataError("engine returned only silence")
                durations.append(speech.size / SAMPLE_RATE_HZ)
            except Exception as exc:  # noqa: BLE001 - an engine that fails is reported, the run goes on
                failures.setdefault(name, []).append(f"{job.spec.describe()}: {type(exc).__name__}: {exc}")
    for name, reasons in failures.items():
        log(f"warning: {name} failed on {len(reasons)} of the duration probes for {phrase.text!r} "
            f"(first: {reasons[0]})")
    if not durations:
        raise DataError(f"no TTS engine produced audio for {phrase.text!r}: "
                        + "; ".join(f"{k}: {v[0]}" for k, v in failures.items()))
    return durations, failures


def window_for(p95_s: float) -> int:
    """Model window (ms) for a phrase whose 95th-percentile duration is ``p95_s``: 1 s when the phrase
    leaves 150 ms of it free, else the duration plus 250 ms rounded up to 100 ms."""
    if p95_s <= 0.85:
        return 1000
    return int(math.ceil((p95_s + 0.25) * 10.0)) * 100


def _render_window_clips(jobs: list, out_dir: str, window_samples: int) -> list[tuple[str, str | None]]:
    """Worker: render clips placed in ``window_samples`` windows (phrases longer than kws synth's 1 s)."""
    import tempfile

    from kws.audio import check_finite, resample, write_wav
    from kws.datasets.synth import ENGINE_CLASSES, SAMPLE_RATE_HZ, place_in_window, trim_silence

    engines, out = {}, []
    with tempfile.TemporaryDirectory(prefix="kws-wake-") as workdir:
        for job in jobs:
            path = Path(out_dir) / f"{job.key}_{window_samples}.wav"
            if path.is_file():
                out.append((str(path), None))
                continue
            try:
                engine = engines.setdefault(job.spec.engine, ENGINE_CLASSES[job.spec.engine]())
                samples, rate = engine.synthesize(job.text, job.spec, seed=job.seed, workdir=Path(workdir))
                check_finite(samples, f"{job.spec.engine} output")
                speech = trim_silence(resample(samples, rate, SAMPLE_RATE_HZ), SAMPLE_RATE_HZ)
                if speech.size == 0:
                    raise DataError("engine returned only silence")
                pcm, _ = place_in_window(speech, job.seed, window_samples=window_samples)
                write_wav(path, pcm, SAMPLE_RATE_HZ)
                out.append((str(path), None))
            except Exception as exc:  # noqa: BLE001 - reported per clip, the run goes on
                out.append((str(path), f"{type(exc).__name__}: {exc}"))
    return out


def synth_positives(phrase: Phrase, config: WakewordConfig, window_ms: int,
                    log: Callable[[str], None]) -> tuple[list[ClipRecord], dict]:
    """Positive clips (cached); windows longer than 1 s are rendered here with kws synth's engines."""
    from kws.datasets.synth import check_engines, plan_clips, run_synthesis

    out_dir = Path(config.cache_dir) / "synth"
    if window_ms <= 1000:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # failures are summarised below, not one warning per clip
            report = run_synthesis({phrase.label: phrase.text}, config.positives, out_dir, seed=config.seed,
                                   engines=list(config.engines), weights=config.weights, jobs=config.jobs,
                                   kokoro_mix_rounds=config.kokoro_mix_rounds, progress=True)
        failed = {}
        for f in report.failures:
            failed.setdefault(f.voice.split(":")[0], []).append(f.reason)
        for line in report.summary_lines():
            log("  " + line.strip())
        return report.records, {k: len(v) for k, v in failed.items()}
    import concurrent.futures
    import multiprocessing

    available, _ = check_engines(config.engines)
    plan = plan_clips({phrase.label: phrase.text}, config.positives, seed=config.seed, engines=available,
                      weights=config.weights, kokoro_mix_rounds=config.kokoro_mix_rounds)
    folder = out_dir / f"{phrase.label}_{window_ms}ms"
    folder.mkdir(parents=True, exist_ok=True)
    samples = 16 * window_ms
    chunks = [plan[i:i + 32] for i in range(0, len(plan), 32)]
    results = []
    with concurrent.futures.ProcessPoolExecutor(max(1, config.jobs),
                                                mp_context=multiprocessing.get_context("spawn")) as pool:
        for chunk_result in pool.map(_render_window_clips, chunks, [str(folder)] * len(chunks),
                                     [samples] * len(chunks)):
            results += chunk_result
    records, failed = [], {}
    for job, (path, error) in zip(plan, results):
        if error:
            failed[job.spec.engine] = failed.get(job.spec.engine, 0) + 1
            continue
        records.append(ClipRecord(path=path, label=phrase.label, speaker=job.spec.voice_id, source=SOURCE_SYNTHETIC,
                                  text=job.text, meta={"engine": job.spec.engine, "settings": job.spec.settings_dict}))
    log(f"  {len(records)} positive clips of {window_ms} ms ({sum(failed.values())} failed)")
    return records, failed


def voice_role(record: ClipRecord, config: WakewordConfig) -> str:
    """train / select / report for a synthetic clip, by a hash of its voice (espeak: accent + variant;
    the few flite and piper voices: voice + settings, so that each side has some of them)."""
    engine = record.meta.get("engine", record.speaker.split(":")[0])
    key = record.speaker if engine == "espeak" else f"{record.speaker}|{json.dumps(record.meta.get('settings', {}), sort_keys=True)}"
    position = int(hashlib.sha1(f"voices:{config.seed}:{key}".encode()).hexdigest()[:8], 16) / 2**32
    if position < config.select_voice_fraction:
        return "select"
    if position < config.select_voice_fraction + config.report_voice_fraction:
        return "report"
    return "train"


def synth_negatives(phrase: Phrase, config: WakewordConfig, log: Callable[[str], None]) -> tuple[list[ClipRecord], list]:
    """Confusable-phrase and common-word clips (``_unknown_``), and the confusables used."""
    from kws.datasets.confusables import confusable_phrases
    from kws.datasets.synth import run_synthesis
    from kws.datasets.words import unknown_words

    confusables = confusable_phrases(phrase.text, max_phrases=config.confusable_phrases, seed=config.seed)
    log(f"confusables ({len(confusables)}): " + ", ".join(c.text for c in confusables[:24])
        + (" ..." if len(confusables) > 24 else ""))
    words_of_phrase = set(phrase.text.split()) | {phrase.text, phrase.label}
    common = [w for w in unknown_words(sorted(words_of_phrase), seed=config.seed) if w not in words_of_phrase]
    texts: dict[str, list[str]] = {}
    counts: dict[str, int] = {}
    if confusables and config.confusable_clips:
        texts["_unknown_confusable"] = [c.text for c in confusables]
        counts["_unknown_confusable"] = config.confusable_clips
    if config.common_word_clips:
        texts["_unknown_words"] = common
        counts["_unknown_words"] = config.common_word_clips
    if not texts:
        return [], confusables
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = run_synthesis(texts, counts, Path(config.cache_dir) / "synth", seed=config.seed,
                               engines=list(config.engines), weights=config.weights, jobs=config.jobs,
                               kokoro_mix_rounds=config.kokoro_mix_rounds, progress=True)
    for line in report.summary_lines():
        log("  " + line.strip())
    if report.failures:
        log(f"  {len(report.failures)} negative clips failed (first: {report.failures[0].message()})")
    return [dataclasses.replace(r, label="_unknown_", meta={**r.meta, "kind": r.label}) for r in report.records], \
        confusables


def real_unknown(phrase: Phrase, config: WakewordConfig) -> tuple[list[ClipRecord], list]:
    from kws.datasets.folders import load_label_folders

    folder = _folder(config.real_unknown)
    if not folder.is_dir():
        raise DataError(f"{folder}: real unknown-word folder not found (set KWS_DATA or real_unknown)")
    words = sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")
                   and p.name not in ("_silence_", "_background_noise_", phrase.label, phrase.text))
    load = load_label_folders(folder, labels={w: "_unknown_" for w in words})
    records = list(load.records)
    if config.real_unknown_max and len(records) > config.real_unknown_max:
        keep = np.linspace(0, len(records) - 1, config.real_unknown_max).round().astype(int)
        records = [records[i] for i in keep]
    return records, [(b.path, b.reason) for b in load.bad_files]


def speech_windows(speakers: list[str], frontend: FrontendConfig, *, hop_ms: int, max_windows: int,
                   cache_dir: str | Path) -> list[ClipRecord]:
    """Clip-long windows every ``hop_ms`` of the speakers' continuous speech (one folder per speaker; at
    most ``max_windows``, evenly spread, 0 = all), written once as WAV files (``_unknown_``)."""
    from kws.audio import write_wav

    rate = frontend.sample_rate_hz
    n, hop = frontend.clip_samples, rate * hop_ms // 1000
    pieces = []
    for folder in speakers:
        for pcm in audio_of([folder], rate):
            for start in range(0, max(pcm.size - n, 0) + 1, hop):
                if pcm.size >= n:
                    pieces.append((Path(folder).name, pcm, start))
    if max_windows and len(pieces) > max_windows:
        keep = np.linspace(0, len(pieces) - 1, max_windows).round().astype(int)
        pieces = [pieces[i] for i in keep]
    out_dir = Path(cache_dir) / "speech_windows"
    records = []
    for speaker, pcm, start in pieces:
        window = pcm[start:start + n]
        if np.max(np.abs(window)) < 64:
            continue  # digital silence is not speech
        key = hashlib.sha1(window.tobytes()).hexdigest()[:20]
        path = out_dir / speaker / f"{key}.wav"
        if not path.is_file():
            write_wav(path, window, rate)
        records.append(ClipRecord(path=str(path), label="_unknown_", speaker=speaker, source=SOURCE_REAL,
                                  meta={"kind": "speech_window"}))
    return records


# ---------------------------------------------------------------------------
# Streaming the float model (checkpoint selection)


def float_scores(model, pcm: np.ndarray, frontend: FrontendConfig, period_frames: int) -> tuple[np.ndarray, np.ndarray]:
    """``(frames, int8 scores)`` of the float model on a stream at the device's schedule (probabilities
    quantised like the int8 model's softmax output: scale 1/256, zero point -128)."""
    from kws.frontend import compute_features, dequantize_features
    from kws.streaming import inference_frames

    features = compute_features(pcm, frontend)
    ends = inference_frames(len(features), frontend.frames_per_clip, period_frames)
    if len(ends) == 0:
        return ends, np.zeros((0, model.output_shape[-1]), np.int8)
    windows = np.stack([features[e - frontend.frames_per_clip + 1:e + 1] for e in ends])
    probabilities = model.predict(dequantize_features(windows, frontend), batch_size=1024, verbose=0)
    return ends, np.clip(np.floor(probabilities * 256 + 0.5) - 128, -128, 127).astype(np.int8)


def record_float(model, pcm_list: list[np.ndarray], frontend: FrontendConfig, detector) -> Any:
    """A :class:`kws.stream_eval.Recorded` of the float model over the concatenated audio."""
    from kws.detector import smooth_scores
    from kws.stream_eval import Recorded
    from kws.streaming import inference_period_frames

    pcm = np.concatenate(pcm_list) if pcm_list else np.zeros(0, np.int16)
    frames, scores = float_scores(model, pcm, frontend, inference_period_frames(detector.inference_period_ms,
                                                                                  frontend.hop_ms))
    return Recorded(frames, smooth_scores(scores, detector.smoothing_inferences), pcm.size / frontend.sample_rate_hz)


@dataclasses.dataclass
class SelectionData:
    negative_pcm: list[np.ndarray]
    positive_pcm: np.ndarray
    placed: list


def selection_data(positives: list[ClipRecord], splits: Splits, config: WakewordConfig, frontend: FrontendConfig,
                   label: str) -> SelectionData:
    """The select speakers' speech, and a stream of the held-out positives placed in select ambience."""
    from kws.audio import read_audio
    from kws.stream_eval import Background, positive_stream

    rate = frontend.sample_rate_hz
    negative = audio_of(splits.speech["select"], rate)
    clips = [read_audio(r.path, rate) for r in positives]
    placed: list = []
    blocks = list(positive_stream(clips, [label] * len(clips), [r.path for r in positives],
                                  Background(audio_of(splits.ambience["select"], rate)), rate, seed=config.seed,
                                  gap_s=(2.0, 3.0), snr_db=config.selection_positives_snr_db, placed=placed))
    return SelectionData(negative, np.concatenate(blocks) if blocks else np.zeros(0, np.int16), placed)


def selection_metrics(model, data: SelectionData, frontend: FrontendConfig, detector, labels: tuple[str, ...],
                      probability: float, target_fa_per_hour: float, min_threshold_probability: float) -> dict:
    """False accepts per hour on the select speech and FRR of the held-out positives at ``probability``; and
    the FRR at the threshold that calibration on the select speech would give for ``target_fa_per_hour``."""
    from kws.detector import probability_to_int8
    from kws.stream_eval import calibrate_thresholds, summarise

    view = SimpleNamespace(labels=labels, frontend=frontend)
    threshold = probability_to_int8(probability)
    thresholds = np.array([128 if lab in detector.ignored_labels else threshold for lab in labels], np.int32)
    negative = record_float(model, data.negative_pcm, frontend, detector)
    positive = record_float(model, [data.positive_pcm], frontend, detector)
    result = summarise(view, detector, thresholds, positive, data.placed, negative, tolerance_s=1.0)
    calibrated = calibrate_thresholds(view, detector, negative, target_fa_per_hour,
                                      probability_to_int8(min_threshold_probability))
    at_target = np.array([calibrated.get(lab, 128) for lab in labels], np.int32)
    result_at_target = summarise(view, detector, at_target, positive, data.placed, negative, tolerance_s=1.0)
    return {"false_accepts": result["false_accepts"], "fa_per_hour": round(result["false_accepts_per_hour"], 3),
            "frr": round(result["false_reject_rate"], 4), "hours": round(negative.seconds / 3600, 4),
            "n_positive": result["n_positive"], "threshold_at_target_int8": int(max(calibrated.values())),
            "frr_at_target": round(result_at_target["false_reject_rate"], 4)}


def selection_key(row: dict, rule: str = "fa_then_frr") -> tuple:
    """Sort key of a checkpoint's selection row under ``rule`` (smaller is better)."""
    if rule == "frr_at_target":
        return row["frr_at_target"], row["fa_per_hour"], row["frr"]
    if rule == "last":
        return (-row["epoch"],)
    return row["fa_per_hour"], row["frr"]


def better(a: dict, b: dict | None, rule: str = "fa_then_frr") -> bool:
    """Checkpoint ``a`` beats ``b`` under ``rule`` (see ``WakewordConfig.selection_rule``)."""
    return b is None or selection_key(a, rule) < selection_key(b, rule)


# ---------------------------------------------------------------------------
# The run


def prepare_run_dir(run_dir: Path, saved: dict, *, force: bool, resume: bool) -> None:
    path = run_dir / WAKEWORD_CONFIG_FILE
    if resume:
        if not path.is_file():
            raise ConfigError(f"{run_dir}: nothing to resume (no {WAKEWORD_CONFIG_FILE})")
        if json.loads(path.read_text()) != saved:
            raise ConfigError(f"{run_dir}: --resume with a different phrase or config than the interrupted run")
        return
    from kws.training.train import fresh_run_dir

    fresh_run_dir(run_dir, force=force)
    write_json_atomic(path, saved)


def check_architecture(train: TrainConfig, frontend: FrontendConfig, n_classes: int, limit: int) -> int:
    import keras

    from kws.training.models import build_model, count_int8_weight_bytes

    model = build_model(train.architecture, (frontend.frames_per_clip, frontend.n_mfcc), n_classes, **train.model)
    size = count_int8_weight_bytes(model)
    keras.backend.clear_session()
    if size > limit:
        raise ConfigError(f"{train.architecture} {train.model}: {size:,} bytes of int8 weights, over the "
                          f"{limit:,}-byte limit (max_int8_weight_bytes)")
    return size


def _duration_stats(durations: list[float]) -> dict:
    d = np.asarray(durations)
    return {"n": int(d.size), "median_s": round(float(np.median(d)), 3), "p95_s": round(float(np.percentile(d, 95)), 3),
            "max_s": round(float(d.max()), 3)}


def run_wakeword(phrase_text: str, config: WakewordConfig, run_dir: str | Path, *, force: bool = False,
                 resume: bool = False, log: Callable[[str], None] = print) -> dict:
    """Train, select, quantise, calibrate and report a wake-phrase detector into ``run_dir``. Returns metrics."""
    started = time.perf_counter()
    phrase = check_phrase(phrase_text)
    for note in phrase.warnings:
        log(f"warning: {note}")
        warnings.warn(note, UserWarning, stacklevel=2)
    run_dir = Path(run_dir)
    labels = ("_silence_", "_unknown_", phrase.label)
    train_cfg = dataclasses.replace(config.train, labels=labels, seed=config.seed, jobs=config.jobs,
                                    cache_dir=config.cache_dir)
    detector = detector_config(config)
    check_architecture(train_cfg, FrontendConfig(), len(labels), config.max_int8_weight_bytes)  # fail before any work
    if config.init_from:
        check_init_run(config.init_from, FrontendConfig(), where="init_from", phrase_names=phrase.names)
    saved = {"phrase": phrase.text, "label": phrase.label, "config": config.to_dict()}
    prepare_run_dir(run_dir, saved, force=force, resume=resume)
    splits = negative_splits(config)
    write_json_atomic(run_dir / SPLITS_FILE, splits.to_dict())

    # 1. the window follows the phrase
    durations, probe_failures = probe_durations(phrase, config, log)
    stats = _duration_stats(durations)
    window_ms = config.clip_duration_ms or window_for(stats["p95_s"])
    frontend = FrontendConfig(clip_duration_ms=window_ms)
    weight_bytes = check_architecture(train_cfg, frontend, len(labels), config.max_int8_weight_bytes)
    log(f"phrase {phrase.text!r} (label {phrase.label}): TTS duration median {stats['median_s']} s, 95th percentile "
        f"{stats['p95_s']} s over {stats['n']} clips -> window {window_ms} ms ({frontend.frames_per_clip} frames)")

    # 2. data
    positives, positive_failures = synth_positives(phrase, config, window_ms, log)
    for engine, count in positive_failures.items():
        log(f"warning: {engine} produced no audio for {count} positive clips (reported, carrying on)")
    if not positives:
        raise DataError(f"no positive clip of {phrase.text!r} could be synthesised")
    roles = {"train": [], "select": [], "report": []}
    for record in positives:
        roles[voice_role(record, config)].append(record)
    for role in ("select", "report"):
        if not roles[role]:  # very few voices: take a few clips from training rather than report nothing
            roles[role], roles["train"] = roles["train"][-1:], roles["train"][:-1]
    negatives, confusables = synth_negatives(phrase, config, log)
    real, bad_files = real_unknown(phrase, config)
    windows = speech_windows(splits.speech["train"], frontend, hop_ms=config.speech_window_hop_ms,
                             max_windows=config.max_speech_windows, cache_dir=config.cache_dir)
    silence = [ClipRecord(path=f"silence:{config.seed}:{i}", label="_silence_", speaker="noise", source="noise")
               for i in range(config.silence_examples)]
    counts = {"positive_train": len(roles["train"]), "positive_select": len(roles["select"]),
              "positive_report": len(roles["report"]), "synthetic_unknown": len(negatives),
              "real_unknown_words": len(real), "speech_windows": len(windows), "silence": len(silence)}
    log("clips: " + ", ".join(f"{k} {v}" for k, v in counts.items()))

    from kws.training.features import featurise, jobs_for
    from kws.training.loop import Examples

    index = {label: i for i, label in enumerate(labels)}
    groups = [(roles["train"], config.positive_augment_variants),
              (negatives + real + windows + silence, config.negative_augment_variants)]
    jobs, job_records = [], []
    for records, variants in groups:
        for record in records:
            record_jobs = jobs_for([record], variants, config.seed)
            jobs += record_jobs
            job_records += [record] * len(record_jobs)
    t0 = time.perf_counter()
    feature_set = featurise(jobs, frontend=frontend, augment=train_cfg.augment,
                            cache_dir=Path(config.cache_dir) / "features", noise_names=splits.noise_names,
                            n_jobs=config.jobs, description="train features",
                            babble_folders=splits.speech["train"])  # only the training speakers talk behind
    bad_files += feature_set.bad
    train_records = [job_records[i] for i in feature_set.kept]
    train = Examples(feature_set.features, np.array([index[r.label] for r in train_records], np.int64),
                     is_real=np.array([r.source == SOURCE_REAL for r in train_records]))
    log(f"features: {len(train.labels)} training examples in {time.perf_counter() - t0:.1f} s")
    validation = validation_examples(roles["select"], splits, frontend, index, phrase.label, config)

    def featurise_more(records: list[ClipRecord], seed: int) -> Examples:
        """More ``_unknown_`` training examples, augmented like the others (for hard-negative mining)."""
        more = featurise(jobs_for(records, config.hard_negative_variants, seed), frontend=frontend,
                         augment=train_cfg.augment, cache_dir=Path(config.cache_dir) / "features",
                         noise_names=splits.noise_names, n_jobs=config.jobs, description="hard negatives",
                         babble_folders=splits.speech["train"])
        return Examples(more.features, np.full(len(more.kept), index["_unknown_"], np.int64),
                        is_real=np.ones(len(more.kept), bool))

    # 3. training with checkpoint selection
    selection = selection_data(roles["select"], splits, config, frontend, phrase.label)
    select_hours = sum(p.size for p in selection.negative_pcm) / frontend.sample_rate_hz / 3600
    log(f"checkpoint selection: {select_hours:.3f} h of held-out speech, {len(selection.placed)} held-out positives")
    mining = hard_negative_mining(config, splits, frontend, detector, index[phrase.label], run_dir, featurise_more)
    model, history, select_log = train_with_selection(train, validation, selection, train_cfg, frontend, detector,
                                                      labels, config, run_dir, resume, log, mining)
    best = min(select_log, key=lambda row: selection_key(row, config.selection_rule))
    log(f"kept epoch {best['epoch']}: {best['fa_per_hour']} FA/h, FRR {best['frr']} on the selection audio; FRR "
        f"{best.get('frr_at_target')} at its threshold for {config.target_fa_per_hour} FA/h")
    train_seconds = time.perf_counter() - started

    # 4. int8, run-folder files, calibration, report
    metrics = finish(model, train, history, select_log, best, phrase, labels, frontend, detector, splits, roles,
                     config, run_dir, log)
    metrics.update({
        "phrase": phrase.text, "warnings": list(phrase.warnings),
        "duration": stats, "clip_duration_ms": window_ms, "frames": frontend.frames_per_clip,
        "counts": counts, "confusables": [dataclasses.asdict(c) for c in confusables],
        "synthesis_failures": {"probe": {k: len(v) for k, v in probe_failures.items()}, "positives": positive_failures},
        "int8_parameter_bytes": weight_bytes, "train_seconds": round(train_seconds, 1),
        "total_seconds": round(time.perf_counter() - started, 1),
        "bad_files": [{"path": p, "reason": r} for p, r in sorted(set(bad_files))],
    })
    write_json_atomic(run_dir / "metrics.json", metrics)
    for line in measured_warnings(phrase, metrics):
        log(line)
    return metrics


def measured_warnings(phrase: Phrase, metrics: dict) -> list[str]:
    """The phrase's warnings again at the end of a run, with the false-accept rate they were about."""
    report = metrics.get("report", {})
    fa_per_hour = report.get("speech", {}).get("false_accepts_per_hour")
    return [f"warning: {note}; measured: {fa_per_hour} false accepts per hour on {report.get('hours_negative')} h "
            f"of held-out speech and ambience at the calibrated threshold" for note in phrase.warnings]


def validation_examples(positives: list[ClipRecord], splits: Splits, frontend: FrontendConfig, index: dict,
                        label: str, config: WakewordConfig):
    """Clean held-out positives and windows of the select speech: the per-epoch val_accuracy of history.csv."""
    from kws.audio import read_audio
    from kws.clips import fit_to_clip
    from kws.frontend import compute_features_many
    from kws.training.loop import Examples

    rate, n = frontend.sample_rate_hz, frontend.clip_samples
    clips = [fit_to_clip(read_audio(r.path, rate), n) for r in positives]
    y = [index[label]] * len(clips)
    speech = [pcm[s:s + n] for pcm in audio_of(splits.speech["select"], rate) for s in range(0, pcm.size - n, rate)]
    speech = speech[:: max(1, len(speech) // max(len(clips), 1))]
    clips += speech
    y += [index["_unknown_"]] * len(speech)
    features = np.stack(compute_features_many(clips, frontend)) if clips else \
        np.zeros((0, frontend.frames_per_clip, frontend.n_mfcc), np.int8)
    return Examples(features, np.array(y, np.int64))


def _load_selection(run_dir: Path) -> list[dict]:
    path = run_dir / SELECTION_FILE
    return json.loads(path.read_text())["epochs"] if path.is_file() else []


def hard_negative_mining(config: WakewordConfig, splits: Splits, frontend: FrontendConfig, detector,
                         label_index: int, run_dir: Path, featurise_more: Callable) -> SimpleNamespace | None:
    """The miner and the featuriser of its windows, or None when ``hard_negative_epochs`` is empty."""
    from kws.detector import probability_to_int8
    from kws.training.hard_negatives import HardNegativeMiner

    if not config.hard_negative_epochs:
        return None
    pcm, speakers = [], []
    for folder in splits.speech["train"]:
        for recording in audio_of([folder], frontend.sample_rate_hz):
            pcm.append(recording)
            speakers.append(Path(folder).name)
    miner = HardNegativeMiner(pcm, speakers, frontend, label_index,
                              probability_to_int8(config.hard_negative_probability), config.hard_negative_max_windows,
                              Path(config.cache_dir), run_dir)

    def score(model, recording):
        rec = record_float(model, [recording], frontend, detector)
        return rec.frames, rec.smoothed

    return SimpleNamespace(miner=miner, featurise=featurise_more, score=score)


def freeze_layers(model, copied: list[str], prefixes: tuple[str, ...]) -> list[str]:
    """Mark the copied layers whose names start with one of ``prefixes`` not trainable; a prefix that
    matches no copied layer is refused, naming it and the layers there are."""
    frozen = []
    for prefix in prefixes:
        matched = [name for name in copied if name.startswith(prefix)]
        if not matched:
            raise ConfigError(f"init_frozen: {prefix!r} matches no layer copied from init_from "
                              f"(copied: {', '.join(copied)})")
        frozen += [name for name in matched if name not in frozen]
    for name in frozen:
        model.get_layer(name).trainable = False
    return frozen


def _with(train, more):
    from kws.training.loop import Examples

    return Examples(np.concatenate([train.features, more.features]), np.concatenate([train.labels, more.labels]),
                    is_real=np.concatenate([train.is_real, more.is_real]))


def train_with_selection(train, validation, selection: SelectionData, train_cfg: TrainConfig,
                         frontend: FrontendConfig, detector, labels, config: WakewordConfig, run_dir: Path,
                         resume: bool, log: Callable[[str], None], mining: SimpleNamespace | None = None):
    """Epoch by epoch (checkpointed), scoring each epoch on the selection audio; the best epoch's model is
    kept in ``best/``; after the ``hard_negative_epochs`` the ``mining`` windows join ``train``. Returns
    (best model, history, selection rows)."""
    import keras

    from kws.training.loop import compile_model, fit, load_checkpoint, steps_per_epoch
    from kws.training.train import build_and_compile, seed_everything

    seed_everything(config.seed)
    checkpoint = load_checkpoint(run_dir) if resume else None
    select_log = _load_selection(run_dir) if resume else []
    if checkpoint:
        model, start_epoch, history = checkpoint
        select_log = [row for row in select_log if row["epoch"] <= start_epoch]
        log(f"resuming after epoch {start_epoch}")
        restored = mining.miner.restore(start_epoch) if mining else []
        if restored:
            train = _with(train, mining.featurise(restored, config.seed))
            log(f"restored {len(restored)} mined hard-negative windows")
    else:
        model, start_epoch, history = build_and_compile(train_cfg, frontend, len(train.labels)), 0, []
        select_log = []
        if config.init_from:
            copied = transfer_weights(model, check_init_run(config.init_from, frontend, where="init_from"))
            n_weighted = sum(1 for layer in model.layers if layer.get_weights())
            log(f"started from {config.init_from}: {len(copied)} of {n_weighted} layers with weights copied")
            if config.init_frozen:
                frozen = freeze_layers(model, copied, config.init_frozen)
                compile_model(model, train_cfg, steps_per_epoch(train_cfg, len(train.labels)))
                log(f"kept the start's weights (not trained) in {len(frozen)} layers: {', '.join(frozen)}")
    best_row = min(select_log, key=lambda r: selection_key(r, config.selection_rule)) if select_log else None
    if checkpoint and (not select_log or select_log[-1]["epoch"] < start_epoch):
        row = score_epoch(model, start_epoch, selection, frontend, detector, labels, config, log)
        select_log.append(row)
        if better(row, best_row, config.selection_rule):
            best_row = row
            save_best(run_dir, model, row)
        _write_selection(run_dir, select_log, best_row, config.selection_rule)
    try:
        for epoch in range(start_epoch, train_cfg.epochs):
            history = fit(model, train, validation, train_cfg, frontend, epochs=epoch + 1, run_dir=run_dir,
                          start_epoch=epoch, history=history, log=log)
            if mining and epoch + 1 in config.hard_negative_epochs:
                mined = mining.miner.mine(model, epoch + 1, mining.score)
                if mined:
                    train = _with(train, mining.featurise(mined, config.seed))
                log(f"  hard negatives after epoch {epoch + 1}: {len(mined)} windows of training speech where "
                    f"the model fires join _unknown_")
            row = score_epoch(model, epoch + 1, selection, frontend, detector, labels, config, log)
            select_log.append(row)
            if better(row, best_row, config.selection_rule):
                best_row = row
                save_best(run_dir, model, row)
            _write_selection(run_dir, select_log, best_row, config.selection_rule)
    except KeyboardInterrupt:
        log(f"interrupted: the last finished epoch is checkpointed in {run_dir / 'checkpoint'}; continue with --resume")
        raise
    best_model = keras.models.load_model(run_dir / BEST_DIR / "model.keras")
    return best_model, history, select_log


def score_epoch(model, epoch: int, selection: SelectionData, frontend, detector, labels, config, log) -> dict:
    row = {"epoch": epoch, **selection_metrics(model, selection, frontend, detector, labels,
                                               config.selection_probability, config.target_fa_per_hour,
                                               config.min_threshold_probability)}
    log(f"  selection after epoch {epoch}: {row['false_accepts']} false accepts in {row['hours']} h "
        f"({row['fa_per_hour']} FA/h), FRR {row['frr']} of {row['n_positive']} held-out positives "
        f"at p {config.selection_probability}; FRR {row['frr_at_target']} at the threshold for "
        f"{config.target_fa_per_hour} FA/h (int8 {row['threshold_at_target_int8']})")
    return row


def save_best(run_dir: Path, model, row: dict) -> None:
    with atomic_dir(run_dir / BEST_DIR, overwrite=True) as tmp:
        model.save(tmp / "model.keras")
        (tmp / "selection.json").write_text(json.dumps(row, indent=1))


def _write_selection(run_dir: Path, rows: list[dict], best: dict | None, rule: str) -> None:
    write_json_atomic(run_dir / SELECTION_FILE, {"epochs": rows, "best_epoch": best["epoch"] if best else None,
                                                 "rule": SELECTION_RULE_TEXT[rule]})


def finish(model, train, history, select_log, best, phrase: Phrase, labels, frontend: FrontendConfig, detector,
           splits: Splits, roles: dict, config: WakewordConfig, run_dir: Path, log) -> dict:
    """int8 model, config.json, detector.json (calibrated), report figures, curves."""
    from kws.detector import DETECTOR_FILE, probability_to_int8, write_detector_config
    from kws.frontend.native import streaming_frontend
    from kws.model import KwsModel, write_model_config
    from kws.model_native import fastest_model
    from kws.training.loop import write_history_csv
    from kws.training.quantize import convert_to_int8, tflite_weight_bytes
    from kws.training.report import plot_training_curves, representative_features

    with atomic_path(run_dir / "model.keras") as tmp:
        model.save(tmp)
    write_history_csv(run_dir / "history.csv", history)
    tflite = convert_to_int8(model, representative_features(train.features, config.seed), frontend)
    with atomic_path(run_dir / "model_int8.tflite") as tmp:
        tmp.write_bytes(tflite)
    write_model_config(run_dir, labels=list(labels), frontend=frontend, architecture=config.train.architecture,
                       params=dict(config.train.model), phrase=phrase.text)
    write_detector_config(run_dir / DETECTOR_FILE, detector)  # uncalibrated, replaced below
    plot_training_curves(history, run_dir / "training_curves.png",
                         f"{phrase.text!r}: {config.train.architecture}, kept epoch {best['epoch']}")

    int8_model, model_note = fastest_model(KwsModel.load(run_dir))
    rate = frontend.sample_rate_hz
    stream_frontend, fe_note = streaming_frontend(frontend)
    log(f"calibration: {fe_note}; {model_note}")
    calibrate_paths = splits.speech["calibrate"] + splits.ambience["calibrate"]
    if config.calibrate_with_selection_audio:  # more negative hours for the threshold (see the option)
        calibrate_paths += splits.speech["select"] + splits.ambience["select"]
    calibration_pcm = audio_of(calibrate_paths, rate)
    detector_rows = []
    if config.detector_search:
        calibrated, negative, detector_rows = choose_detector(int8_model, detector, stream_frontend, calibration_pcm,
                                                              splits, roles["select"], phrase, config, log)
    else:
        calibrated, negative = calibrate(int8_model, detector, stream_frontend, calibration_pcm, config)
    write_detector_config(run_dir / DETECTOR_FILE, calibrated, calibration={
        "target_false_accepts_per_hour": config.target_fa_per_hour,
        "rule": "lowest int8 threshold >= min_threshold_int8 whose FA/h on the calibration audio is <= target",
        "min_threshold_int8": probability_to_int8(config.min_threshold_probability),
        "hours_negative": round(negative.seconds / 3600, 4),
        "negatives": [Path(p).name for p in calibrate_paths]})
    threshold = calibrated.threshold_for(phrase.label)
    log(f"calibrated threshold {threshold} (p {(threshold + 128) / 256:.3f}) for {config.target_fa_per_hour} FA/h "
        f"on {negative.seconds / 3600:.3f} h of calibration audio")
    report = report_figures(int8_model, calibrated, stream_frontend, splits, roles["report"], phrase, config, run_dir,
                            log)
    int8_bytes = tflite_weight_bytes(tflite)
    return {
        "architecture": config.train.architecture, "params": dict(config.train.model), "labels": list(labels),
        "int8_weight_bytes": int8_bytes, "tflite_bytes": len(tflite), "epochs": len(history),
        "best_epoch": best["epoch"], "selection": select_log,
        "threshold_int8": int(threshold), "threshold_probability": round((threshold + 128) / 256, 4),
        "calibration_hours": round(negative.seconds / 3600, 4), "report": report,
        "detector_search": detector_rows,
        "n_train_examples": int(len(train.labels)),
        "splits": {kind: {role: [Path(p).name for p in paths] for role, paths in roles_.items()}
                   for kind, roles_ in (("speech", splits.speech), ("ambience", splits.ambience))},
    }


def record_positives(model, detector, stream_frontend, clips: list[np.ndarray], positives: list[ClipRecord],
                     label: str, background: list[np.ndarray], snr_db: float | None, *, seed: int,
                     gap_s: tuple[float, float]):
    """Stream the clips placed into ``background`` (at ``snr_db``, or their level); returns (Recorded, placed)."""
    from kws.stream_eval import Background, positive_stream, record

    placed: list = []
    stream_frontend.reset()
    blocks = positive_stream(clips, [label] * len(clips), [r.path for r in positives], Background(background),
                             model.frontend.sample_rate_hz, seed=seed, gap_s=gap_s, snr_db=snr_db, placed=placed)
    return record(model, detector, blocks, frontend=stream_frontend), placed


def calibrate(model, detector, stream_frontend, calibration_pcm: list[np.ndarray], config: WakewordConfig):
    """``detector`` with the lowest thresholds (>= ``min_threshold_probability``) within ``target_fa_per_hour``
    on the calibration audio; returns (calibrated detector, the recorded calibration stream)."""
    from kws.detector import probability_to_int8
    from kws.stream_eval import calibrate_thresholds, record

    stream_frontend.reset()
    negative = record(model, detector, iter(calibration_pcm), frontend=stream_frontend)
    floor = probability_to_int8(config.min_threshold_probability)
    thresholds = calibrate_thresholds(model, detector, negative, config.target_fa_per_hour, floor)
    return detector.with_thresholds(thresholds), negative


def choose_detector(model, base, stream_frontend, calibration_pcm: list[np.ndarray], splits: Splits,
                    positives: list[ClipRecord], phrase: Phrase, config: WakewordConfig, log):
    """The detector of ``config.detector_search`` with the lowest mean FRR of the selection voices (in selection
    ambience at 10 dB and at their level over selection speech), each at its own threshold calibrated on the
    calibration audio. Why: a 0.6 s word fills a 1 s window for only ~3 inferences 200 ms apart, so smoothing
    and consecutive hits decide whether it can fire at all. Returns (the chosen detector calibrated, its
    recorded calibration stream, one row per candidate)."""
    from kws.audio import read_audio
    from kws.stream_eval import keyword_thresholds, summarise

    rate = model.frontend.sample_rate_hz
    backgrounds = {"ambience_10db": (audio_of(splits.ambience["select"], rate), 10.0),
                   "speech": (audio_of(splits.speech["select"], rate), None)}
    clips = [read_audio(r.path, rate) for r in positives]
    rows, candidates = [], []
    for smoothing, hits in config.detector_search:
        candidate, negative = calibrate(model, dataclasses.replace(base, smoothing_inferences=smoothing,
                                                                   min_consecutive_hits=hits),
                                        stream_frontend, calibration_pcm, config)
        row = {"smoothing_inferences": smoothing, "min_consecutive_hits": hits,
               "threshold_int8": candidate.threshold_for(phrase.label)}
        for name, (background, snr) in backgrounds.items():
            positive, placed = record_positives(model, candidate, stream_frontend, clips, positives, phrase.label,
                                                background, snr, seed=config.seed, gap_s=(2.0, 3.0))
            result = summarise(model, candidate, keyword_thresholds(model, candidate), positive, placed, negative, 1.0)
            row[f"frr_{name}"] = round(result["false_reject_rate"], 4)
        row["frr_mean"] = round((row["frr_ambience_10db"] + row["frr_speech"]) / 2, 4)
        log(f"detector smoothing {smoothing}, {hits} hit(s): threshold {row['threshold_int8']}, selection voices "
            f"FRR {row['frr_ambience_10db']} in ambience at 10 dB, {row['frr_speech']} over speech")
        rows.append(row)
        candidates.append((candidate, negative))
    best = min(range(len(rows)), key=lambda i: (rows[i]["frr_mean"], i))
    rows[best]["chosen"] = True
    log(f"detector: smoothing {rows[best]['smoothing_inferences']}, {rows[best]['min_consecutive_hits']} hit(s)")
    return (*candidates[best], rows)


def report_figures(model, detector, stream_frontend, splits: Splits, positives: list[ClipRecord], phrase: Phrase,
                   config: WakewordConfig, run_dir: Path, log) -> dict:
    """FRR of the report voices (in report ambience at 10 dB and in report speech) and FA/h of the report audio,
    at the calibrated threshold; DET curve."""
    from kws.audio import read_audio
    from kws.stream_eval import keyword_thresholds, operating_point, plot_det, record, summarise, sweep

    rate = model.frontend.sample_rate_hz
    clips = [read_audio(r.path, rate) for r in positives]
    speech = audio_of(splits.speech["report"], rate)
    ambience = audio_of(splits.ambience["report"], rate)
    stream_frontend.reset()
    negative = record(model, detector, iter(speech + ambience), frontend=stream_frontend)
    out, curves = {"hours_negative": round(negative.seconds / 3600, 4), "n_positive": len(clips)}, {}
    for name, background, snr in (("ambience_10db", ambience, 10.0), ("speech", speech, None)):
        positive, placed = record_positives(model, detector, stream_frontend, clips, positives, phrase.label,
                                            background, snr, seed=config.seed, gap_s=(3.0, 6.0))
        stored = summarise(model, detector, keyword_thresholds(model, detector), positive, placed, negative, 1.0)
        curve = sweep(model, detector, positive, placed, negative, 1.0)
        point = operating_point(curve, config.target_fa_per_hour)
        out[name] = {"false_reject_rate": round(stored["false_reject_rate"], 4),
                     "false_accepts_per_hour": round(stored["false_accepts_per_hour"], 3),
                     "false_accepts": stored["false_accepts"],
                     "operating_point": None if point is None else {
                         "threshold": point["threshold"], "false_reject_rate": round(point["false_reject_rate"], 4),
                         "false_accepts_per_hour": round(point["false_accepts_per_hour"], 3)}}
        curves[f"synthetic report voices, {name.replace('_', ' ')}"] = [
            (r["false_accepts_per_hour"], r["false_reject_rate"]) for r in curve]
        log(f"report ({name}): FRR {out[name]['false_reject_rate']} of {len(clips)} held-out synthetic positives, "
            f"{out[name]['false_accepts']} false accepts in {out['hours_negative']} h of report speech + ambience "
            f"({out[name]['false_accepts_per_hour']} FA/h)")
    plot_det(curves, run_dir / "det_curve.png", target_fa_per_hour=config.target_fa_per_hour,
             title=f"{phrase.text!r}: held-out TTS voices, {negative.seconds / 3600:.2f} h of held-out negatives")
    return out


__all__ = ["Phrase", "WakewordConfig", "check_phrase", "load_wakeword_config",
           "negative_splits", "run_wakeword", "wakeword_config_from_dict", "window_for"]
