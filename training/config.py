"""``TrainConfig``: every training setting, typed, with a default and a docstring, read from TOML.

A config file holds top-level keys of :class:`TrainConfig` plus optional tables
``[model]`` (architecture parameters, passed to the builder),
``[augment]`` (fields of :class:`kws.training.augment.AugmentConfig`) and
``[frontend]`` (fields of :class:`kws.config.FrontendConfig` that differ from the default). Unknown keys
and wrong types are rejected with the key named.
"""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path
from typing import Any

from kws.datasets.speech_commands import LABELS_12
from kws.datasets.synth import VOICE_DRAWS
from kws.config import FrontendConfig, from_dict, frontend_from_dict
from kws.errors import ConfigError
from kws.training.augment import AugmentConfig


@dataclasses.dataclass(frozen=True, kw_only=True)
class TrainConfig:
    """How to train one keyword model."""

    architecture: str = "ds_cnn"
    """Name in :data:`kws.training.models.MODELS`."""
    model: dict = dataclasses.field(default_factory=dict)
    """Architecture parameters passed to the builder (e.g. ``width``)."""
    frontend: dict = dataclasses.field(default_factory=dict)
    """Front-end settings that differ from :class:`kws.config.FrontendConfig`'s defaults (e.g. ``upper_hz``).
    Empty = the project's front end; anything else makes a model only a matching front end can run."""
    labels: tuple[str, ...] = LABELS_12
    """Output classes in order; ``_silence_`` and ``_unknown_`` are the non-keyword classes."""
    seed: int = 0
    """Seed of every random choice (data split aside, which depends only on speaker ids)."""
    epochs: int = 30
    """Training epochs over the balanced, augmented training set."""
    batch_size: int = 64
    """Examples per gradient step."""
    learning_rate: float = 0.003
    """Peak learning rate (Adam), decayed to 1% of it along a cosine."""
    warmup_epochs: int = 1
    """Epochs of linear learning-rate warm-up."""
    label_smoothing: float = 0.05
    """Label smoothing of the cross-entropy loss."""
    teacher: dict = dataclasses.field(default_factory=dict)
    """Knowledge distillation: a larger float model trained first on the same examples, whose softened
    predictions become part of the student's targets. Keys ``architecture``, ``model`` (its parameters)
    and ``epochs`` (default: ``epochs``); or ``models``: trained float models (``RUN/model.keras`` paths; ``{split}``
    becomes ``fold<k>`` in a CV fold, ``all`` with every speaker, else ``split``) whose averaged prediction teaches, e.g. the same recipe trained with other seeds (an
    ensemble is better than each of its members; its members must have held out the same speakers); empty = no
    teacher."""
    distillation_weight: float = 0.5
    """With a teacher: share of the target taken from the teacher's softened prediction."""
    distillation_temperature: float = 2.0
    """With a teacher: its probabilities are raised to 1/T and renormalised (softmax of logits / T)."""
    unlabelled_speech: tuple[str, ...] = ()
    """With a teacher: folders (under $KWS_DATA) of continuous speech without labels, one subfolder per
    speaker (or a speaker folder itself), cut into clip-long windows that the student learns from the
    teacher's predictions alone (new real voices, most of them saying no keyword)."""
    unlabelled_speakers: tuple[str, ...] = ()
    """Only these speaker subfolders of ``unlabelled_speech`` (empty: every one). Keeps the speakers whose
    speech calibrates and evaluates the streaming detector (scripts/stream_splits.sh) out of training."""
    unlabelled_windows: int = 4000
    """At most this many unlabelled windows (evenly spread over the speech)."""
    unlabelled_hop_ms: int = 500
    """One unlabelled window starts every this many milliseconds (shorter: more windows from the same speakers)."""
    unlabelled_share: float = 0.1
    """Unlabelled windows added to every epoch, as a share of its labelled examples."""
    mixup_alpha: float = 0.0
    """Mixup: each training input is blended with another of the epoch, features and one-hot labels
    alike, by a weight drawn from Beta(alpha, alpha) (the larger part kept by the input). 0 = off."""
    weight_average_decay: float = 0.0
    """Per-step decay of an exponential moving average of the weights (e.g. 0.999, a horizon of
    ~1000 steps); the trained model gets the averaged weights. 0 = off."""
    examples_per_class: int = 0
    """Examples drawn per class per epoch (balanced sampling); 0 = the mean class size."""
    real_share: float = 0.0
    """Share of each class's draws taken from real recordings (0 = no preference by source)."""
    real_data: str = "speech_commands_v0.02_test"
    """Folder of ``<label>/*`` real clips (absolute, or relative to $KWS_DATA)."""
    validation_fraction: float = 0.25
    """Share of real speakers held out for validation (no speaker on both sides); used when ``folds`` is 0."""
    folds: int = 0
    """Speaker cross-validation: 0 = one split by ``validation_fraction``; k >= 2 = k folds of
    speakers (every speaker in exactly one), the speakers of fold ``fold`` validate."""
    fold: int = 0
    """The validating speaker fold when ``folds`` >= 2; also selects the held-out noise fold."""
    real_speaker_share: float = 1.0
    """Share of the training-side real speakers kept (a hash of the speaker id decides, so the
    kept set grows with the share): the learning curve's x axis. Validation is not affected."""
    all_speakers: bool = False
    """Train on every real speaker and validate on no speech: the final model, once its recipe
    was chosen by cross-validation (held-out noise still measures ambience)."""
    real_silence: bool = True
    """Use the real ``_silence_`` clips of ``real_data``. They are cut from the Speech Commands
    noise recordings, so they share audio with noise-made examples; false keeps the noise split honest."""
    noise_folders: tuple[str, ...] = ("background_noise",)
    """Folders (under $KWS_DATA) of noise recordings for ``_silence_`` and noise augmentation."""
    noise_folds: int = 0
    """0 = train on every noise recording; k >= 2 = deal the recordings into k folds and hold
    fold ``fold % k`` out of training for the validation silence, noisy speech and ambience sets."""
    validation_silence: int = 0
    """``_silence_`` validation clips cut from the held-out noise recordings (needs ``noise_folds``)."""
    noisy_snr_db: tuple[float, ...] = ()
    """Also validate the speech clips mixed with held-out noise at these SNRs (whole-clip power)."""
    ambience_windows: int = 0
    """1 s windows of held-out ambience (-50 .. -20 dBFS RMS) to count false commands on."""
    split_salt: str = ""
    """Change to draw another speaker-disjoint split."""
    extra_real: tuple[str, ...] = ("speech_commands_v0.01_samples", "free_spoken_digits", "wakeword_clips")
    """More real folders (relative to $KWS_DATA): keyword folders keep their label, all else is ``_unknown_``.
    Only their training-side speakers are used."""
    mined_speech: tuple[str, ...] = ()
    """Folders (relative to $KWS_DATA) of continuous speech, one sub-folder per speaker, whose words are
    found by an offline recogniser (:mod:`kws.datasets.word_mining`, cached) and added as real examples of
    training-side speakers: other words as ``_unknown_`` (new real voices), keywords only with ``mined_keywords``."""
    mined_unknown_max: int = 1500
    """At most this many mined ``_unknown_`` words (evenly spread over the mined clips)."""
    mined_keywords: bool = False
    """Also train on mined words that sound like a keyword, labelled as that keyword (the recogniser is
    often wrong on accented speech: off by default; they are never used as ``_unknown_`` either way)."""
    use_real: bool = True
    """Train on real recordings."""
    use_synthetic: bool = True
    """Train on synthetic speech (``kws synth`` engines)."""
    synthetic_per_keyword: int = 300
    """Synthetic clips per keyword."""
    synthetic_unknown: int = 1500
    """Synthetic ``_unknown_`` clips (common words and per-keyword confusables)."""
    synth_engines: tuple[str, ...] = ("espeak", "flite", "piper")
    """TTS engines to use (missing ones are skipped with a warning)."""
    synth_engine_weights: dict = dataclasses.field(default_factory=dict)
    """Share of the synthetic clips per engine, e.g. ``{espeak = 0.5, kokoro = 0.3}``; empty = the
    defaults of :data:`kws.datasets.synth.DEFAULT_ENGINE_WEIGHTS`."""
    synth_voice_draw: str = "random"
    """How synthetic clips get voices: ``random`` (an engine by weight, then any of its settings) or
    ``even`` (every voice setting of an engine before any repeats; clip i of every word shares a voice),
    see :data:`kws.datasets.synth.VOICE_DRAWS`."""
    silence_examples: int = 400
    """Generated ``_silence_`` examples (background noise at random low gain)."""
    silence_rms_dbfs: tuple[float, ...] = ()
    """(low, high): generated ``_silence_`` examples get an RMS level drawn uniformly in this dBFS range
    (e.g. quiet room -60 to loud cafe -15), so loud non-speech is silence too; empty = the Speech
    Commands rule (a gain of 0..1 on the recording's own level)."""
    min_keyword_probability: float = 0.0
    """Clip decision rule of the trained model (``config.json``, :mod:`kws.decision`): a clip whose top
    keyword is less likely than this is decided as ``_silence_``/``_unknown_``; 0 = plain argmax.
    Validation figures use it."""
    synthetic_music_examples: int = 0
    """Generated ``_silence_`` examples of synthetic music and tonal sound (melodies, chords, drums,
    beeps, sirens; :mod:`kws.datasets.synthetic_music`) at an RMS level in ``synthetic_music_rms_dbfs``:
    pitched non-speech that broadband noise does not teach the model to ignore."""
    synthetic_music_rms_dbfs: tuple[float, ...] = (-50.0, -20.0)
    """(low, high) RMS level in dBFS of the synthetic music examples."""
    augment_variants: int = 3
    """Augmented copies per training clip (plus the clean one), cached as features."""
    real_augment_variants: int = -1
    """Augmented copies per real recording; -1 = ``augment_variants``. Real clips are scarce, so more
    copies of them stretch the real data further than more synthetic ones."""
    augment: AugmentConfig = dataclasses.field(default_factory=AugmentConfig)
    """Waveform and SpecAugment settings."""
    ablation_epochs: int = 0
    """If > 0, also train real-only / synthetic-only / both for this many epochs and report each."""
    jobs: int = 2
    """Worker processes for synthesis and featurisation."""
    cache_dir: str = ".cache/kws"
    """Where synthetic clips and features are cached (relative to the working directory)."""
    strategy: str = "none"
    """tf.distribute strategy: ``none``, ``mirrored`` (several GPUs) or ``multiworker`` (TF_CONFIG)."""

    def __post_init__(self) -> None:
        self.frontend_config  # a bad [frontend] table fails at load, naming the key
        if self.epochs < 1 or self.batch_size < 1:
            raise ConfigError("TrainConfig: epochs and batch_size must be >= 1")
        if not 0.0 < self.validation_fraction < 1.0:
            raise ConfigError("TrainConfig: validation_fraction must be in (0, 1)")
        if self.strategy not in ("none", "mirrored", "multiworker"):
            raise ConfigError(f"TrainConfig: strategy must be none, mirrored or multiworker, got {self.strategy!r}")
        if self.synth_voice_draw not in VOICE_DRAWS:
            raise ConfigError(f"TrainConfig: synth_voice_draw must be one of {', '.join(VOICE_DRAWS)}, "
                              f"got {self.synth_voice_draw!r}")
        if not (self.use_real or self.use_synthetic):
            raise ConfigError("TrainConfig: use_real and use_synthetic cannot both be false")
        if not (len(self.synthetic_music_rms_dbfs) == 2
                and self.synthetic_music_rms_dbfs[0] < self.synthetic_music_rms_dbfs[1] <= 0.0):
            raise ConfigError(f"TrainConfig: synthetic_music_rms_dbfs must be [low, high] with low < high <= 0, "
                              f"got {list(self.synthetic_music_rms_dbfs)}")
        if not 0.0 <= self.min_keyword_probability < 1.0:
            raise ConfigError(f"TrainConfig: min_keyword_probability must be in [0, 1), got {self.min_keyword_probability}")
        if self.synthetic_music_examples < 0:
            raise ConfigError(f"TrainConfig: synthetic_music_examples must be >= 0, got {self.synthetic_music_examples}")
        if self.silence_rms_dbfs and not (len(self.silence_rms_dbfs) == 2
                                          and self.silence_rms_dbfs[0] < self.silence_rms_dbfs[1] <= 0.0):
            raise ConfigError(f"TrainConfig: silence_rms_dbfs must be empty or [low, high] with low < high <= 0, "
                              f"got {list(self.silence_rms_dbfs)}")
        if self.teacher and "models" in self.teacher:
            models = self.teacher["models"]
            if set(self.teacher) != {"models"} or not models or not all(isinstance(m, str) and m for m in models):
                raise ConfigError(f"TrainConfig: teacher = {{models = [...]}} takes a non-empty list of model paths "
                                  f"and nothing else, got {dict(self.teacher)}")
        elif set(self.teacher) - {"architecture", "model", "epochs"} or (self.teacher and "architecture" not in self.teacher):
            raise ConfigError(f"TrainConfig: teacher takes architecture (required), model and epochs, or models, "
                              f"got {sorted(self.teacher)}")
        if not 0.0 < self.distillation_weight <= 1.0 or self.distillation_temperature <= 0.0:
            raise ConfigError("TrainConfig: distillation_weight must be in (0, 1] and distillation_temperature > 0")
        if self.unlabelled_speakers and not self.unlabelled_speech:
            raise ConfigError("TrainConfig: unlabelled_speakers names speakers of unlabelled_speech, which is empty")
        if self.unlabelled_speech and not self.teacher:
            raise ConfigError("TrainConfig: unlabelled_speech needs a teacher (its predictions are the targets)")
        if self.unlabelled_windows < 0 or not 0.0 <= self.unlabelled_share <= 1.0:
            raise ConfigError("TrainConfig: unlabelled_windows must be >= 0 and unlabelled_share in [0, 1]")
        if self.unlabelled_hop_ms <= 0:
            raise ConfigError(f"TrainConfig: unlabelled_hop_ms must be > 0, got {self.unlabelled_hop_ms}")
        if self.mined_unknown_max < 0:
            raise ConfigError(f"TrainConfig: mined_unknown_max must be >= 0, got {self.mined_unknown_max}")
        if self.mixup_alpha < 0.0:
            raise ConfigError(f"TrainConfig: mixup_alpha must be >= 0, got {self.mixup_alpha}")
        if not 0.0 <= self.weight_average_decay < 1.0:
            raise ConfigError(f"TrainConfig: weight_average_decay must be in [0, 1), got {self.weight_average_decay}")
        if self.folds == 1 or self.folds < 0 or (self.folds and not 0 <= self.fold < self.folds):
            raise ConfigError(f"TrainConfig: fold {self.fold} of folds {self.folds}: need folds 0 or >= 2 "
                              f"and 0 <= fold < folds")
        if not 0.0 < self.real_speaker_share <= 1.0:
            raise ConfigError("TrainConfig: real_speaker_share must be in (0, 1]")
        if self.noise_folds == 1 or self.noise_folds < 0:
            raise ConfigError("TrainConfig: noise_folds must be 0 or >= 2")
        needs_noise_split = self.validation_silence > 0 or self.ambience_windows > 0 or self.noisy_snr_db
        if needs_noise_split and not self.noise_folds:
            raise ConfigError("TrainConfig: validation_silence, noisy_snr_db and ambience_windows need held-out "
                              "noise (noise_folds >= 2)")
        if len(set(self.labels)) != len(self.labels) or len(self.labels) < 2:
            raise ConfigError("TrainConfig: labels must be at least two distinct names")

    @property
    def frontend_config(self) -> FrontendConfig:
        """The front end this model trains on: the defaults with the ``[frontend]`` table applied."""
        return frontend_from_dict(dict(self.frontend), where="TrainConfig [frontend]")

    @property
    def keywords(self) -> tuple[str, ...]:
        return tuple(label for label in self.labels if not label.startswith("_"))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def jsonable(value):
    """``value`` with every tuple turned into a list (what JSON gives back), nested."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def train_config_from_dict(data: dict[str, Any], *, where: str = "train config") -> TrainConfig:
    data = dict(data)
    augment = from_dict(AugmentConfig, data.pop("augment", {}), where=f"{where} [augment]")
    model = data.pop("model", {})
    if not isinstance(model, dict):
        raise ConfigError(f"{where}: 'model' must be a table")
    return from_dict(TrainConfig, {**data, "model": model, "augment": augment}, where=where)


def read_toml(path: str | Path, *, _including: tuple[Path, ...] = ()) -> dict[str, Any]:
    """The tables of a TOML config file; a missing file or bad TOML is a ``ConfigError`` naming it.

    ``base = "other.toml"`` (relative to this file) starts from that config and changes only what this file
    sets, so a screened lever reads as its difference from the recipe (tables merge key by key).
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: config file not found") from exc
    except IsADirectoryError as exc:
        raise ConfigError(f"{path}: is a directory, not a config file") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from exc
    base = data.pop("base", None)
    if base is None:
        return data
    if not isinstance(base, str) or not base:
        raise ConfigError(f"{path}: 'base' must name another config file, got {base!r}")
    base_path, including = path.parent / base, _including + (path.resolve(),)
    if base_path.resolve() in including:
        raise ConfigError(f"{path}: 'base' {base!r} includes itself")
    return merged_tables(read_toml(base_path, _including=including), data)


def merged_tables(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``changes`` applied: a table changes key by key, any other value is replaced."""
    merged = dict(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merged_tables(merged[key], value)
        else:
            merged[key] = value
    return merged


def load_train_config(path: str | Path) -> TrainConfig:
    """Read a TOML training config; unknown keys and wrong types raise ``ConfigError`` naming them."""
    return train_config_from_dict(read_toml(path), where=str(path))
