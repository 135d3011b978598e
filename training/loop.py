"""The epoch loop: balanced sampling, SpecAugment, cosine learning rate, per-epoch checkpoints.

Features arrive as int8 arrays (what the device computes); the float model is
trained on their dequantised values. Each epoch draws the same number of
examples from every class, so small classes are repeated and large ones
subsampled. TensorFlow is imported here, never in ``kws``.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import time
from pathlib import Path
from typing import Callable

import numpy as np

from kws.config import FrontendConfig
from kws.fileio import atomic_dir
from kws.frontend import dequantize_features
from kws.training.augment import AugmentConfig, augment_features
from kws.training.config import TrainConfig

CHECKPOINT_DIR = "checkpoint"
WEIGHT_AVERAGE_FILE = "weight_average.npz"
#: Optimizer steps between two updates of the weight average (get_weights is not free).
WEIGHT_AVERAGE_EVERY_STEPS = 8
HISTORY_FIELDS = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "learning_rate", "seconds")


@dataclasses.dataclass
class Examples:
    """int8 features with integer labels."""

    features: np.ndarray  # [n, frames, n_mfcc] int8
    labels: np.ndarray  # [n] int64
    is_real: np.ndarray | None = None  # [n] bool: a real recording (for TrainConfig.real_share)


def _draw(members: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` of ``members``, with replacement only where there are fewer of them."""
    if count <= 0 or members.size == 0:
        return np.zeros(0, np.int64)
    return rng.choice(members, count, replace=members.size < count)


def balanced_epoch_indices(labels: np.ndarray, n_classes: int, per_class: int, rng: np.random.Generator, *,
                           is_real: np.ndarray | None = None, real_share: float = 0.0) -> np.ndarray:
    """``per_class`` indices drawn from every class, shuffled.

    With ``real_share`` > 0, that share of each class's draws comes from its real
    recordings (``is_real``) and the rest from the other sources, so a class with many
    synthetic clips still sees its real ones often; a class with no real (or no other)
    examples takes all its draws from what it has.
    """
    chosen = []
    for c in range(n_classes):
        members = np.flatnonzero(labels == c)
        if members.size == 0:
            continue
        if real_share <= 0.0 or is_real is None:
            chosen.append(_draw(members, per_class, rng))
            continue
        real, other = members[is_real[members]], members[~is_real[members]]
        n_real = per_class if other.size == 0 else 0 if real.size == 0 else round(real_share * per_class)
        chosen += [_draw(real, n_real, rng), _draw(other, per_class - n_real, rng)]
    order = np.concatenate(chosen)
    rng.shuffle(order)
    return order


def epoch_inputs(train: Examples, order: np.ndarray, augment: AugmentConfig, frontend: FrontendConfig,
                 rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Float inputs (SpecAugment on the int8 codes, then dequantised) and labels for one epoch."""
    features = train.features[order]
    masked = np.stack([augment_features(f, augment, rng, frontend.feature_zero_point) for f in features])
    return dequantize_features(masked, frontend), train.labels[order]


def mixup(x: np.ndarray, y_onehot: np.ndarray, alpha: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Blend every example with a random partner of the same epoch (Zhang et al., mixup).

    The weight is drawn per example from Beta(alpha, alpha) and folded to >= 0.5, so each input keeps
    the larger share and a batch still holds every drawn example mostly intact.
    """
    if alpha <= 0.0 or len(x) < 2:
        return x, y_onehot
    weight = rng.beta(alpha, alpha, size=len(x))
    weight = np.maximum(weight, 1.0 - weight)
    partner = rng.permutation(len(x))
    x_weight = weight.reshape((-1,) + (1,) * (x.ndim - 1)).astype(x.dtype)
    y_weight = weight[:, None].astype(y_onehot.dtype)
    return (x_weight * x + (1 - x_weight) * x[partner],
            y_weight * y_onehot + (1 - y_weight) * y_onehot[partner])


def teacher_distribution(teacher, x: np.ndarray, temperature: float) -> np.ndarray:
    """softmax(teacher logits / T) for ``x`` (float64): the teacher ends in a softmax, so this is its
    probabilities raised to 1/T and renormalised; T > 1 spreads the mass onto the classes it finds similar
    (what the student learns from)."""
    import keras

    probabilities = np.concatenate([keras.ops.convert_to_numpy(teacher(x[i : i + 1024], training=False))
                                    for i in range(0, len(x), 1024)]).astype(np.float64)
    tempered = np.power(np.clip(probabilities, 1e-12, 1.0), 1.0 / temperature)
    return tempered / tempered.sum(axis=1, keepdims=True)


def taught_epoch(teacher, x: np.ndarray, y_onehot: np.ndarray, x_unlabelled: np.ndarray | None,
                 config: TrainConfig, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The epoch's inputs and targets under a teacher, shuffled: labelled examples get
    ``(1 - weight) * label + weight * teacher``, unlabelled windows the teacher's prediction alone.

    With mixup the inputs are blended first and the teacher labels the blend (function matching, Beyer et
    al. 2022): the student learns the teacher's function between examples too, not a blend of two answers.
    The label share of a blend follows how much of it came from labelled examples.
    """
    n_unlabelled = 0 if x_unlabelled is None else len(x_unlabelled)
    label_mass = np.concatenate([np.ones(len(x)), np.zeros(n_unlabelled)])
    if n_unlabelled:
        order = rng.permutation(len(x) + n_unlabelled)
        x = np.concatenate([x, x_unlabelled])[order]
        y_onehot = np.concatenate([y_onehot, np.zeros((n_unlabelled, y_onehot.shape[1]), y_onehot.dtype)])[order]
        label_mass = label_mass[order]
    if config.mixup_alpha > 0.0:
        # blending [labels | label mass] as one array keeps the two consistent
        both = np.concatenate([y_onehot, label_mass[:, None].astype(y_onehot.dtype)], axis=1)
        x, both = mixup(x, both, config.mixup_alpha, rng)
        y_onehot, label_mass = both[:, :-1], both[:, -1].astype(np.float64)
    # y_onehot already carries its label mass (a labelled/unlabelled blend: less than 1)
    label_share = 1.0 - config.distillation_weight
    taught = teacher_distribution(teacher, x, config.distillation_temperature)
    teacher_share = 1.0 - label_share * label_mass[:, None]
    return x, (label_share * y_onehot + teacher_share * taught).astype(y_onehot.dtype)


def labelled_per_epoch(config: TrainConfig, n_train: int) -> int:
    """Labelled examples drawn per epoch (balanced: the same number from every class)."""
    n_classes = len(config.labels)
    return (config.examples_per_class or math.ceil(n_train / n_classes)) * n_classes


def unlabelled_per_epoch(config: TrainConfig, n_train: int, n_unlabelled: int) -> int:
    """Unlabelled windows added to each epoch (0 without a teacher or without windows)."""
    if not (config.teacher and n_unlabelled and config.unlabelled_share):
        return 0
    return round(config.unlabelled_share * labelled_per_epoch(config, n_train))


def steps_per_epoch(config: TrainConfig, n_train: int, n_unlabelled: int = 0) -> int:
    """Optimizer steps of one epoch (the learning-rate schedule is laid out in them)."""
    total = labelled_per_epoch(config, n_train) + unlabelled_per_epoch(config, n_train, n_unlabelled)
    return math.ceil(total / config.batch_size)


def learning_rate_schedule(config: TrainConfig, steps_per_epoch: int):
    """Linear warm-up then cosine decay to 1% of the peak, per optimizer step."""
    import keras

    total = config.epochs * steps_per_epoch
    warmup = min(config.warmup_epochs * steps_per_epoch, max(total - 1, 0))
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=config.learning_rate * 0.01 if warmup else config.learning_rate,
        decay_steps=max(total - warmup, 1),
        alpha=0.01,
        warmup_target=config.learning_rate if warmup else None,
        warmup_steps=warmup,
    )


def compile_model(model, config: TrainConfig, steps_per_epoch: int) -> None:
    import keras

    optimizer = keras.optimizers.Adam(learning_rate=learning_rate_schedule(config, steps_per_epoch))
    loss = keras.losses.CategoricalCrossentropy(label_smoothing=config.label_smoothing)
    model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"])


def batch_progress(total_steps: int, description: str):
    """A Keras callback that drives one tqdm bar per epoch (Keras is imported lazily, so it is built here)."""
    import keras
    from tqdm import tqdm

    class BatchProgress(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.bar = tqdm(total=total_steps, desc=description, unit="batch", leave=False)

        def on_train_batch_end(self, batch, logs=None):
            self.bar.update(1)
            if logs and batch % 20 == 0:
                self.bar.set_postfix(loss=f"{logs.get('loss', 0):.3f}", acc=f"{logs.get('accuracy', 0):.3f}")

        def on_epoch_end(self, epoch, logs=None):
            self.bar.close()

    return BatchProgress()


class WeightAverage:
    """Exponential moving average of every model weight, batch-norm statistics included.

    Averaging the weights of the last ~thousand steps lands nearer the centre of the minimum
    than the last step does, which generalises better and moves less from epoch to epoch.
    """

    def __init__(self, weights: list[np.ndarray], decay_per_step: float):
        self.weights = [np.array(w, dtype=np.float64) for w in weights]
        self.decay_per_step = decay_per_step

    def update(self, weights: list[np.ndarray], steps: int) -> None:
        decay = self.decay_per_step ** steps
        for average, current in zip(self.weights, weights):
            average *= decay
            average += (1.0 - decay) * current

    def values(self, like: list[np.ndarray]) -> list[np.ndarray]:
        return [a.astype(w.dtype) for a, w in zip(self.weights, like)]

    def callback(self, model):
        """A Keras callback updating the average every few optimizer steps."""
        import keras

        average = self

        class UpdateAverage(keras.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                if (batch + 1) % WEIGHT_AVERAGE_EVERY_STEPS == 0:
                    average.update(model.get_weights(), WEIGHT_AVERAGE_EVERY_STEPS)

        return UpdateAverage()


def save_checkpoint(run_dir: Path, model, epoch: int, history: list[dict],
                    average: WeightAverage | None = None) -> None:
    """Model (with optimizer state) + finished epoch + history (+ weight average), replaced as a whole."""
    with atomic_dir(run_dir / CHECKPOINT_DIR, overwrite=True) as tmp:
        model.save(tmp / "model.keras")
        (tmp / "state.json").write_text(json.dumps({"epoch": epoch, "history": history}, indent=1))
        if average is not None:
            np.savez(tmp / WEIGHT_AVERAGE_FILE, *average.weights)


def load_weight_average(run_dir: Path, decay_per_step: float) -> WeightAverage | None:
    path = run_dir / CHECKPOINT_DIR / WEIGHT_AVERAGE_FILE
    if not path.is_file():
        return None
    with np.load(path) as saved:
        return WeightAverage([saved[f"arr_{i}"] for i in range(len(saved.files))], decay_per_step)


def load_checkpoint(run_dir: Path):
    """(model, finished epochs, history) of the last checkpoint, or None."""
    import keras

    folder = run_dir / CHECKPOINT_DIR
    if not (folder / "state.json").is_file():
        return None
    state = json.loads((folder / "state.json").read_text())
    model = keras.models.load_model(folder / "model.keras")
    return model, int(state["epoch"]), list(state["history"])


def write_history_csv(path: Path, history: list[dict]) -> None:
    from kws.fileio import atomic_path

    with atomic_path(path) as tmp:
        with open(tmp, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=HISTORY_FIELDS)
            writer.writeheader()
            for row in history:
                writer.writerow({k: row.get(k, "") for k in HISTORY_FIELDS})


def distributed_dataset(x: np.ndarray, y: np.ndarray, global_batch: int):
    """Batches of (x, y) for a tf.distribute strategy. Every worker builds the same epoch (same
    seed), so the batches are sharded by position (``DATA``), each worker taking its share."""
    import tensorflow as tf

    dataset = tf.data.Dataset.from_tensor_slices((x.astype(np.float32), y.astype(np.float32))).batch(global_batch)
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)


class _History:
    """What ``model.fit`` returns, for the distributed loop (``.history[name][-1]``)."""

    def __init__(self, loss: float, accuracy: float):
        self.history = {"loss": [loss], "accuracy": [accuracy]}


_TRAIN_STEPS: dict = {}


def _distributed_train_step(model, config: TrainConfig):
    """One synchronous step on every replica of every worker (a tf.function, built once per model).

    Keras 3's ``model.fit`` cannot take a multi-worker dataset (it tries to convert the per-replica
    batches to one tensor), so the distributed path steps the strategy itself, as tf.distribute's
    custom-loop guide does: per-example loss averaged over the global batch, gradients all-reduced
    by the optimizer.
    """
    import keras
    import tensorflow as tf

    key = id(model)
    if key not in _TRAIN_STEPS:
        strategy = model.distribute_strategy
        loss_fn = keras.losses.CategoricalCrossentropy(label_smoothing=config.label_smoothing, reduction=None)

        def replica_step(x, y):
            with tf.GradientTape() as tape:
                predicted = model(x, training=True)
                loss = tf.nn.compute_average_loss(loss_fn(y, predicted), global_batch_size=config.batch_size)
                if model.losses:
                    loss += tf.nn.scale_regularization_loss(tf.add_n(model.losses))
            gradients = tape.gradient(loss, model.trainable_variables)
            model.optimizer.apply_gradients(zip(gradients, model.trainable_variables))
            correct = tf.reduce_sum(tf.cast(tf.equal(tf.argmax(predicted, 1), tf.argmax(y, 1)), tf.float32))
            return loss, correct

        @tf.function
        def step(x, y):
            loss, correct = strategy.run(replica_step, args=(x, y))
            total = tf.distribute.ReduceOp.SUM
            return strategy.reduce(total, loss, axis=None), strategy.reduce(total, correct, axis=None)

        _TRAIN_STEPS[key] = step
    return _TRAIN_STEPS[key]


def distributed_epoch(model, x: np.ndarray, y: np.ndarray, config: TrainConfig, steps: int, description: str):
    """One epoch under ``model.distribute_strategy`` (mirrored or multi-worker), with a progress bar."""
    from tqdm import tqdm

    strategy = model.distribute_strategy
    step = _distributed_train_step(model, config)
    losses, correct = [], 0.0
    with tqdm(total=steps, desc=description, unit="batch", leave=False) as bar:
        for x_batch, y_batch in strategy.experimental_distribute_dataset(distributed_dataset(x, y, config.batch_size)):
            loss, hits = step(x_batch, y_batch)
            losses.append(float(loss))
            correct += float(hits)
            bar.update(1)
    return _History(float(np.mean(losses)) if losses else 0.0, correct / max(len(x), 1))


def local_evaluate(model, x: np.ndarray, y: np.ndarray, config: TrainConfig) -> tuple[float, float]:
    """Validation loss and accuracy computed on this worker alone (no collectives needed)."""
    import keras

    predicted = np.concatenate([keras.ops.convert_to_numpy(model(x[i : i + 512], training=False))
                                for i in range(0, len(x), 512)])
    loss_fn = keras.losses.CategoricalCrossentropy(label_smoothing=config.label_smoothing)
    loss = float(keras.ops.convert_to_numpy(loss_fn(y, predicted)))
    return loss, float(np.mean(np.argmax(predicted, 1) == np.argmax(y, 1)))


def fit(model, train: Examples, validation: Examples, config: TrainConfig, frontend: FrontendConfig, *,
        epochs: int, run_dir: Path | None = None, start_epoch: int = 0, history: list[dict] | None = None,
        teacher=None, unlabelled: Examples | None = None, log: Callable[[str], None] = print) -> list[dict]:
    """Train ``model`` (compiled) from ``start_epoch`` to ``epochs``; checkpoint each epoch into ``run_dir``.
    With a ``teacher`` model the targets are distilled (:func:`taught_epoch`), and ``unlabelled``
    windows join every epoch with the teacher's prediction as their whole target."""
    import keras

    n_classes = len(config.labels)
    per_class = labelled_per_epoch(config, len(train.labels)) // n_classes
    n_unlabelled = len(unlabelled.labels) if unlabelled is not None and teacher is not None else 0
    extra = unlabelled_per_epoch(config, len(train.labels), n_unlabelled)
    steps = steps_per_epoch(config, len(train.labels), n_unlabelled)
    history = list(history or [])
    val_x = dequantize_features(validation.features, frontend)
    val_y = keras.utils.to_categorical(validation.labels, n_classes)
    average = None
    if config.weight_average_decay:
        resumed = load_weight_average(run_dir, config.weight_average_decay) if run_dir and start_epoch else None
        average = resumed or WeightAverage(model.get_weights(), config.weight_average_decay)
    for epoch in range(start_epoch, epochs):
        started = time.perf_counter()
        rng = np.random.default_rng([config.seed, epoch])
        order = balanced_epoch_indices(train.labels, n_classes, per_class, rng, is_real=train.is_real,
                                       real_share=config.real_share)
        x, y = epoch_inputs(train, order, config.augment, frontend, rng)
        y_onehot = keras.utils.to_categorical(y, n_classes)
        if teacher is None:
            x, y_onehot = mixup(x, y_onehot, config.mixup_alpha, rng)
        else:
            x_more = None
            if extra:
                pick = rng.choice(n_unlabelled, extra, replace=extra > n_unlabelled)
                x_more, _ = epoch_inputs(unlabelled, pick, config.augment, frontend, rng)
            x, y_onehot = taught_epoch(teacher, x, y_onehot, x_more, config, rng)
        progress = batch_progress(steps, f"epoch {epoch + 1}/{epochs}")
        if config.strategy == "none":
            callbacks = [progress] + ([average.callback(model)] if average else [])
            result = model.fit(x, y_onehot, batch_size=config.batch_size, epochs=1, shuffle=False, verbose=0,
                               callbacks=callbacks)
            val_loss, val_accuracy = model.evaluate(val_x, val_y, batch_size=512, verbose=0) if len(val_y) else (0.0, 0.0)
        else:
            result = distributed_epoch(model, x, y_onehot, config, steps, f"epoch {epoch + 1}/{epochs}")
            if average:
                average.update(model.get_weights(), steps)
            val_loss, val_accuracy = local_evaluate(model, val_x, val_y, config) if len(val_y) else (0.0, 0.0)
        learning_rate = float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
        row = {
            "epoch": epoch + 1,
            "loss": float(result.history["loss"][-1]),
            "accuracy": float(result.history["accuracy"][-1]),
            "val_loss": float(val_loss),
            "val_accuracy": float(val_accuracy),
            "learning_rate": learning_rate,
            "seconds": round(time.perf_counter() - started, 2),
        }
        history.append(row)
        log(f"epoch {epoch + 1:3d}/{epochs}: loss {row['loss']:.4f} acc {row['accuracy']:.4f} "
            f"val_loss {row['val_loss']:.4f} val_acc {row['val_accuracy']:.4f} lr {learning_rate:.2e} "
            f"({row['seconds']:.1f} s)")
        if run_dir is not None:
            save_checkpoint(run_dir, model, epoch + 1, history, average)
    if average and epochs == config.epochs:
        model.set_weights(average.values(model.get_weights()))
        if len(val_y):
            _, averaged_accuracy = local_evaluate(model, val_x, val_y, config)
            log(f"weight average (decay {config.weight_average_decay} per step): val_acc {averaged_accuracy:.4f}")
    return history
