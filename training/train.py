"""One training run, from data to an int8 model and its figures, in a run folder.

Run folder contents: ``config.json`` (labels, front end + hash, train config),
``model.keras``, ``model_int8.tflite``, ``metrics.json``, ``history.csv``,
``training_curves.png``, ``confusion_matrix.png`` and ``checkpoint/`` (last
finished epoch, for ``--resume``). Every file is written atomically.
"""

from __future__ import annotations

import collections
import dataclasses
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np

from kws.config import FrontendConfig
from kws.errors import ConfigError
from kws.fileio import atomic_path, write_json_atomic
from kws.training.config import TrainConfig, jsonable, train_config_from_dict
from kws.training.data import SOURCE_NOISE, assemble
from kws.training.features import featurise, jobs_for
from kws.training.loop import Examples, compile_model, fit, load_checkpoint, steps_per_epoch, write_history_csv
from kws.training.rejection import SCORES_FILE, save_fold_scores
from kws.training.validation import held_out_audio, held_out_scores, robustness_from_scores, validation_speech

TRAIN_CONFIG_FILE = "train_config.json"


_STRATEGIES: dict = {}


def distribution_strategy(name: str):
    """The tf.distribute strategy for ``none`` / ``mirrored`` / ``multiworker`` (one per process:
    a multi-worker strategy must exist before TensorFlow runs its first op)."""
    import tensorflow as tf

    if name not in _STRATEGIES:
        if name == "mirrored":
            _STRATEGIES[name] = tf.distribute.MirroredStrategy()
        elif name == "multiworker":
            _STRATEGIES[name] = tf.distribute.MultiWorkerMirroredStrategy()  # cluster described by $TF_CONFIG
        else:
            return tf.distribute.get_strategy()
    return _STRATEGIES[name]


def seed_everything(seed: int) -> None:
    import keras
    import tensorflow as tf

    keras.backend.clear_session()  # also resets layer-name counters, which end up in the .tflite
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def prepare_run_dir(run_dir: Path, config: TrainConfig, *, force: bool, resume: bool) -> None:
    """Create the run folder; refuse to overwrite it without --force, or to resume a different config."""
    saved = run_dir / TRAIN_CONFIG_FILE
    if resume:
        if not saved.is_file():
            raise ConfigError(f"{run_dir}: nothing to resume (no {TRAIN_CONFIG_FILE})")
        previous = train_config_from_dict(json.loads(saved.read_text()), where=str(saved))
        if previous != config:
            raise ConfigError(f"{run_dir}: --resume with a different config than the interrupted run")
        return
    fresh_run_dir(run_dir, force=force)
    write_json_atomic(saved, jsonable(config.to_dict()))


def fresh_run_dir(run_dir: Path, *, force: bool) -> None:
    """Create an empty run folder; an existing non-empty one is refused unless ``force``."""
    if run_dir.exists() and any(run_dir.iterdir()):
        if not force:
            raise ConfigError(f"{run_dir} already exists; use --force to overwrite it or --resume to continue it")
        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)


@dataclasses.dataclass
class Featurised:
    train: Examples
    validation: Examples
    train_sources: np.ndarray  # [n_train] source name per example
    bad_files: list[tuple[str, str]]
    counts: dict
    validation_records: list = dataclasses.field(default_factory=list)
    """The real clips behind ``validation`` (in order), for the noisy-speech measurements."""
    unlabelled: Examples | None = None
    """Windows of unlabelled continuous speech (labels -1), for a teacher to label."""


def featurise_run(config: TrainConfig, frontend: FrontendConfig, log: Callable[[str], None]) -> Featurised:
    """Assemble the records and turn them into cached int8 features (clean + augmented variants)."""
    from kws.training.validation import noise_split

    data = assemble(config)
    noise_names, held_out_noise = noise_split(config)
    if held_out_noise:
        log(f"noise: {len(noise_names)} recordings train, {len(held_out_noise)} held out: {', '.join(held_out_noise)}")
    cache = Path(config.cache_dir) / "features"
    index = {label: i for i, label in enumerate(config.labels)}
    real_variants = config.augment_variants if config.real_augment_variants < 0 else config.real_augment_variants
    train_jobs, job_records = [], []
    for record in data.train:
        variants = real_variants if record.source == "real" else config.augment_variants
        jobs = jobs_for([record], variants, config.seed)
        train_jobs += jobs
        job_records += [record] * len(jobs)
    started = time.perf_counter()
    train_set = featurise(train_jobs, frontend=frontend, augment=config.augment, cache_dir=cache,
                          noise_names=noise_names, n_jobs=config.jobs, description="train features")
    val_jobs = jobs_for(data.validation, 0, config.seed)
    val_set = featurise(val_jobs, frontend=frontend, augment=config.augment, cache_dir=cache,
                        noise_names=noise_names, n_jobs=config.jobs, description="validation features")
    log(f"features: {len(train_set.kept)} training + {len(val_set.kept)} validation examples in "
        f"{time.perf_counter() - started:.1f} s")
    train_records = [job_records[i] for i in train_set.kept]
    val_records = [data.validation[i] for i in val_set.kept]
    bad = data.bad_files + train_set.bad + val_set.bad
    counts = collections.defaultdict(lambda: collections.Counter())
    for record in data.train:
        counts[record.label][record.source] += 1
    unlabelled = unlabelled_examples(config, frontend, noise_names, log) if config.unlabelled_speech else None
    return Featurised(
        unlabelled=unlabelled,
        train=Examples(train_set.features, np.array([index[r.label] for r in train_records], np.int64),
                       is_real=np.array([r.source == "real" for r in train_records])),
        validation=Examples(val_set.features, np.array([index[r.label] for r in val_records], np.int64)),
        validation_records=val_records,
        train_sources=np.array([r.source for r in train_records]),
        bad_files=sorted(set(bad)),
        counts={label: dict(c) for label, c in sorted(counts.items())},
    )


def unlabelled_examples(config: TrainConfig, frontend: FrontendConfig, noise_names, log) -> Examples:
    """int8 features of clip-long windows (one every ``unlabelled_hop_ms``) of the unlabelled speech: clean + one
    augmented copy."""
    from kws.datasets.paths import data_root
    from kws.errors import DataError
    from kws.training.features import featurise
    from kws.training.wakeword import speech_windows

    roots, speaker_folders = [], []
    for folder in config.unlabelled_speech:
        root = Path(folder) if Path(folder).is_absolute() else data_root() / folder
        if not root.is_dir():
            raise DataError(f"{root}: unlabelled speech folder not found (set KWS_DATA or unlabelled_speech)")
        roots.append(str(root))
        subfolders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
        speaker_folders += subfolders or [root]  # a folder without subfolders is one speaker
    if config.unlabelled_speakers:  # named speakers may sit in any of the folders, but each must exist
        missing = sorted(set(config.unlabelled_speakers) - {p.name for p in speaker_folders})
        if missing:
            raise DataError(f"{', '.join(roots)}: unlabelled_speakers {missing} not found among the speaker folders")
        speaker_folders = [p for p in speaker_folders if p.name in config.unlabelled_speakers]
    speakers = [str(p) for p in speaker_folders]
    records = speech_windows(speakers, frontend, hop_ms=config.unlabelled_hop_ms,
                             max_windows=config.unlabelled_windows, cache_dir=config.cache_dir)
    features = featurise(jobs_for(records, 1, config.seed), frontend=frontend, augment=config.augment,
                         cache_dir=Path(config.cache_dir) / "features", noise_names=noise_names, n_jobs=config.jobs,
                         description="unlabelled features")
    log(f"unlabelled: {len(features.kept)} examples ({len(records)} windows x clean + 1 augmented) "
        f"from {len(speakers)} speakers")
    return Examples(features.features, np.full(len(features.kept), -1, np.int64))


def check_architecture(config: TrainConfig, frontend: FrontendConfig) -> None:
    """Build the configured architecture once (no training) so an unknown name or parameter is a
    :class:`ConfigError` before any data is assembled or any folder is created."""
    import keras

    from kws.training.models import build_model

    build_model(config.architecture, (frontend.frames_per_clip, frontend.n_mfcc), len(config.labels), **config.model)
    if config.teacher.get("models"):
        teacher_model_paths(config)  # missing files or another speaker split fail before any work
    elif config.teacher:
        teacher = teacher_config(config)
        build_model(teacher.architecture, (frontend.frames_per_clip, frontend.n_mfcc), len(config.labels), **teacher.model)
    keras.backend.clear_session()


#: Settings that decide which speakers and noise recordings a run trains on: a teacher model must share them,
#: or it may have learnt this run's validation speakers (or held-out noise) and the figures would measure memory.
SPLIT_KEYS = ("real_data", "labels", "folds", "fold", "validation_fraction", "split_salt", "all_speakers",
              "real_speaker_share", "noise_folders", "noise_folds")


def split_name(config: TrainConfig) -> str:
    """Which speakers a run trains on, as a folder name: ``fold<k>`` in a CV fold, ``all`` with every speaker,
    else ``split`` (the ``{split}`` of a teacher model path)."""
    if config.all_speakers:
        return "all"
    return f"fold{config.fold}" if config.folds else "split"


def teacher_model_paths(config: TrainConfig) -> list[Path]:
    """The teacher ensemble's model files (``{split}`` replaced), each checked to hold out this run's speakers."""
    paths = [Path(str(m).replace("{split}", split_name(config))) for m in config.teacher["models"]]
    for path in paths:
        saved_path = path.parent / "train_config.json"
        if not path.is_file():
            raise ConfigError(f"{path}: teacher model not found")
        if not saved_path.is_file():
            raise ConfigError(f"{saved_path}: not found, so which speakers the teacher {path} held out is unknown")
        saved = json.loads(saved_path.read_text())
        for key in SPLIT_KEYS:
            if saved.get(key) != jsonable(getattr(config, key)):
                raise ConfigError(f"{path}: the teacher was trained with {key} = {saved.get(key)!r}, this run has "
                                  f"{jsonable(getattr(config, key))!r}: it may have heard this run's validation data")
    return paths


def ensemble_teacher(paths: list[Path], log):
    """One Keras model whose output is the mean of the members' probabilities."""
    import keras

    members = [keras.models.load_model(path) for path in paths]
    for i, member in enumerate(members):
        member.name = f"member_{i}"  # unique names inside the ensemble graph
    inputs = keras.Input(tuple(members[0].inputs[0].shape[1:]))
    outputs = keras.layers.Average()([member(inputs, training=False) for member in members])
    log(f"teacher: the mean of {len(members)} trained models: " + ", ".join(str(p) for p in paths))
    return keras.Model(inputs, outputs, name="teacher_ensemble")


TEACHER_FILE = "teacher.keras"


def teacher_config(config: TrainConfig) -> TrainConfig:
    """The recipe with the teacher's architecture and epochs (and no teacher or weight averaging of its own)."""
    return dataclasses.replace(config, architecture=config.teacher["architecture"],
                               model=dict(config.teacher.get("model", {})),
                               epochs=int(config.teacher.get("epochs", config.epochs)), teacher={},
                               unlabelled_speech=(), weight_average_decay=0.0)


def train_teacher(config: TrainConfig, data: Featurised, frontend: FrontendConfig, run_dir: Path, log):
    """Train (or, after an interruption, reload) the distillation teacher, or load the ensemble of trained
    models; returns (model, its float validation accuracy or None when reloaded)."""
    import keras

    if config.teacher.get("models"):
        from kws.frontend import dequantize_features
        from kws.training.loop import local_evaluate

        teacher = ensemble_teacher(teacher_model_paths(config), log)
        accuracy = None
        if len(data.validation.labels):
            _, accuracy = local_evaluate(teacher, dequantize_features(data.validation.features, frontend),
                                         keras.utils.to_categorical(data.validation.labels, len(config.labels)), config)
            log(f"teacher: float val_acc {accuracy:.4f}")
        return teacher, accuracy
    path = run_dir / TEACHER_FILE
    if path.is_file():
        log(f"teacher: reusing {path}")
        return keras.models.load_model(path), None
    recipe = teacher_config(config)
    log(f"teacher: {recipe.architecture} {recipe.model}, {recipe.epochs} epochs")
    seed_everything(config.seed + 1)
    model = build_and_compile(recipe, frontend, len(data.train.labels))
    history = fit(model, data.train, data.validation, recipe, frontend, epochs=recipe.epochs,
                  log=lambda line: log(f"teacher {line}"))
    with atomic_path(path) as tmp:
        model.save(tmp)
    return model, history[-1]["val_accuracy"]


def build_and_compile(config: TrainConfig, frontend: FrontendConfig, n_train: int, n_unlabelled: int = 0):
    from kws.training.models import build_model

    n_classes = len(config.labels)
    steps = steps_per_epoch(config, n_train, n_unlabelled)
    with distribution_strategy(config.strategy).scope():
        model = build_model(config.architecture, (frontend.frames_per_clip, frontend.n_mfcc), n_classes,
                            **config.model)
        compile_model(model, config, steps)
    return model


def subset(examples: Examples, mask: np.ndarray) -> Examples:
    is_real = examples.is_real[mask] if examples.is_real is not None else None
    return Examples(examples.features[mask], examples.labels[mask], is_real)


def ablation(config: TrainConfig, data: Featurised, frontend: FrontendConfig, log) -> dict:
    """Validation accuracy (float) of the same recipe trained on real only, synthetic only, and both."""
    results = {}
    short = dataclasses.replace(config, epochs=config.ablation_epochs)
    variants = {
        "real_only": data.train_sources != "synthetic",
        "synthetic_only": data.train_sources != "real",
        "both": np.ones(len(data.train_sources), bool),
    }
    for name, mask in variants.items():
        has_speech = np.any(mask & (data.train_sources != SOURCE_NOISE))
        if not has_speech:
            log(f"ablation {name}: no examples, skipped")
            continue
        seed_everything(config.seed)
        part = subset(data.train, mask)
        model = build_and_compile(short, frontend, len(part.labels))
        history = fit(model, part, data.validation, short, frontend, epochs=short.epochs, log=lambda s: None)
        results[name] = {"val_accuracy": round(history[-1]["val_accuracy"], 4), "n_train": int(mask.sum()),
                         "epochs": short.epochs}
        log(f"ablation {name}: {results[name]}")
    return results


def run_training(config: TrainConfig, run_dir: str | Path, *, force: bool = False, resume: bool = False,
                 log: Callable[[str], None] = print) -> dict:
    """Train, quantise, evaluate and write the run folder. Returns the metrics dict."""
    frontend = config.frontend_config
    started = time.perf_counter()
    distribution_strategy(config.strategy)  # before any TensorFlow op (collectives are set up at start-up)
    check_architecture(config, frontend)  # a typo in [model] fails now, not after featurisation
    if config.strategy == "multiworker" and not is_chief_worker():
        # every worker runs the same steps (collectives), but only the chief writes the run folder
        with tempfile.TemporaryDirectory(prefix="kws-worker-") as scratch:
            return _run(config, Path(scratch) / "run", frontend, started, force=False, resume=False, log=log)
    return _run(config, Path(run_dir), frontend, started, force=force, resume=resume, log=log)


def is_chief_worker() -> bool:
    """True for the chief of a $TF_CONFIG cluster (the ``chief`` task, else ``worker`` 0)."""
    cluster = json.loads(os.environ.get("TF_CONFIG", "{}") or "{}")
    task = cluster.get("task", {})
    has_chief = "chief" in cluster.get("cluster", {})
    return task.get("type") == "chief" or (not has_chief and task.get("type", "worker") == "worker"
                                           and int(task.get("index", 0)) == 0)


def _run(config: TrainConfig, run_dir: Path, frontend: FrontendConfig, started: float, *, force: bool, resume: bool,
         log: Callable[[str], None]) -> dict:
    from kws.training.report import finish_run

    prepare_run_dir(run_dir, config, force=force, resume=resume)
    seed_everything(config.seed)
    data = featurise_run(config, frontend, log)
    for path, reason in data.bad_files:
        log(f"skipped: {path}: {reason}")
    held_out = held_out_audio(config, frontend)
    if held_out.silence:
        data.validation = with_held_out_silence(data.validation, held_out.silence, config, frontend)

    teacher, teacher_accuracy = None, None
    if config.teacher:
        teacher, teacher_accuracy = train_teacher(config, data, frontend, run_dir, log)
        seed_everything(config.seed)  # the student starts as it would without a teacher
    checkpoint = load_checkpoint(run_dir) if resume else None
    if checkpoint:
        model, start_epoch, history = checkpoint
        log(f"resuming after epoch {start_epoch}")
    else:
        n_unlabelled = len(data.unlabelled.labels) if data.unlabelled is not None else 0
        model, start_epoch, history = build_and_compile(config, frontend, len(data.train.labels), n_unlabelled), 0, []
    try:
        history = fit(model, data.train, data.validation, config, frontend, epochs=config.epochs, run_dir=run_dir,
                      start_epoch=start_epoch, history=history, teacher=teacher, unlabelled=data.unlabelled,
                      log=log)
    except KeyboardInterrupt:
        log(f"interrupted: the last finished epoch is checkpointed in {run_dir / 'checkpoint'}; "
            f"continue with --resume")
        raise
    train_seconds = time.perf_counter() - started
    with atomic_path(run_dir / "model.keras") as tmp:
        model.save(tmp)
    write_history_csv(run_dir / "history.csv", history)
    # the ablation compares data sources on held-out speakers; with every speaker trained there are none
    run_ablation = config.ablation_epochs > 0 and not config.all_speakers
    ablation_results = ablation(config, data, frontend, log) if run_ablation else {}
    metrics = finish_run(model, config, frontend, data, history, run_dir, train_seconds=train_seconds,
                         ablation=ablation_results, log=log)
    if config.teacher:
        metrics["teacher"] = {**config.teacher, "float_val_accuracy": teacher_accuracy}
    if config.noise_folds:
        metrics["robustness"] = held_out_robustness(run_dir, data, held_out, config, frontend, log)
    if config.teacher or config.noise_folds:
        write_json_atomic(run_dir / "metrics.json", metrics)
    return metrics


def with_held_out_silence(validation: Examples, silence: list[np.ndarray], config: TrainConfig,
                          frontend: FrontendConfig) -> Examples:
    """Validation plus ``_silence_`` clips cut from noise recordings training never used."""
    from kws.frontend import compute_features_many

    features = np.stack(compute_features_many(silence, frontend))
    labels = np.full(len(silence), config.labels.index("_silence_"), np.int64)
    return Examples(np.concatenate([validation.features, features]), np.concatenate([validation.labels, labels]))


def held_out_robustness(run_dir: Path, data: Featurised, held_out, config: TrainConfig, frontend: FrontendConfig,
                        log: Callable[[str], None]) -> dict:
    """int8 accuracy of the validation speech clean / at each SNR, false commands on held-out ambience.

    The held-out scores behind them are stored too, so a CV can sweep the decision rule (training/rejection.py)."""
    from kws.model import KwsModel

    model = KwsModel.load(run_dir, running_frontend=frontend)
    speech, speech_labels = validation_speech(data.validation_records, config, frontend)
    scores = held_out_scores(model, speech, speech_labels, held_out, config, frontend)
    save_fold_scores(run_dir / SCORES_FILE, scores)
    result = robustness_from_scores(scores, held_out, model.min_keyword_probability)
    log("held-out noise: " + ", ".join(f"{k} {v}" for k, v in result.items() if isinstance(v, float)))
    return result
