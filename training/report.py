"""The end of a run: int8 conversion, float vs int8 validation, run-folder files and pictures."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from kws.config import FrontendConfig
from kws.evaluation import EvalResult, confusion_matrix, evaluate_features, plot_confusion
from kws.fileio import atomic_path, write_json_atomic
from kws.frontend import dequantize_features
from kws.decision import decide, keyword_mask
from kws.model import MIN_KEYWORD_PROBABILITY_KEY, KwsModel, read_model_config, write_model_config
from kws.training.config import TrainConfig

REPRESENTATIVE_EXAMPLES = 3000
"""Calibration examples for int8 conversion: more examples give steadier activation ranges."""


def representative_features(features: np.ndarray, seed: int) -> np.ndarray:
    """A seeded random subset of the training features (clean and augmented) for int8 calibration."""
    rng = np.random.default_rng(seed)
    count = min(REPRESENTATIVE_EXAMPLES, len(features))
    return features[np.sort(rng.choice(len(features), count, replace=False))]


def plot_training_curves(history: list[dict], path: Path, title: str) -> None:
    """Loss and accuracy per epoch, training vs validation."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [row["epoch"] for row in history]
    fig, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    loss_ax.plot(epochs, [r["loss"] for r in history], label="training (augmented)")
    loss_ax.plot(epochs, [r["val_loss"] for r in history], label="validation")
    loss_ax.set_xlabel("epoch")
    loss_ax.set_ylabel("cross-entropy")
    loss_ax.legend()
    acc_ax.plot(epochs, [r["accuracy"] for r in history], label="training (augmented)")
    acc_ax.plot(epochs, [r["val_accuracy"] for r in history], label="validation")
    acc_ax.set_xlabel("epoch")
    acc_ax.set_ylabel("accuracy")
    acc_ax.legend()
    fig.suptitle(title)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)


def validation_description(config: TrainConfig) -> str:
    """What the run's validation clips are, in words (metrics.json ``validation``)."""
    silence = " + _silence_ cut from held-out noise recordings" if config.validation_silence else ""
    if config.all_speakers:
        return f"no speech held out (every speaker of {config.real_data} trains){silence}"
    if config.folds:
        return f"speaker fold {config.fold} of {config.folds} of {config.real_data}{silence}"
    return f"speaker-disjoint {config.validation_fraction:.0%} of {config.real_data}{silence}"


def finish_run(model, config: TrainConfig, frontend: FrontendConfig, data, history: list[dict], run_dir: Path, *,
               train_seconds: float, ablation: dict, log: Callable[[str], None] = print) -> dict:
    """Quantise, evaluate float and int8 on the validation speakers, and write the run's files."""
    from kws.training.models import count_int8_weight_bytes
    from kws.training.quantize import convert_to_int8, tflite_weight_bytes

    calibration = representative_features(data.train.features, config.seed)
    tflite = convert_to_int8(model, calibration, frontend)
    with atomic_path(run_dir / "model_int8.tflite") as tmp:
        tmp.write_bytes(tflite)
    decision = {MIN_KEYWORD_PROBABILITY_KEY: config.min_keyword_probability} if config.min_keyword_probability else {}
    write_model_config(run_dir, labels=list(config.labels), frontend=frontend, architecture=config.architecture,
                       params=dict(config.model), **decision)
    int8_model = KwsModel(tflite, read_model_config(run_dir / "config.json"), running_frontend=frontend,
                          source=str(run_dir))

    labels = list(config.labels)
    val = data.validation
    float_probabilities = model.predict(dequantize_features(val.features, frontend), batch_size=512, verbose=0)
    float_predicted = decide(float_probabilities, keyword_mask(labels), config.min_keyword_probability or None)
    float_result = EvalResult(labels=labels, confusion=confusion_matrix(val.labels, float_predicted, len(labels)))
    int8_result = EvalResult(labels=labels, confusion=evaluate_features(int8_model, val.features, val.labels),
                             model=str(run_dir / "model_int8.tflite"))
    drop_points = 100.0 * (float_result.accuracy - int8_result.accuracy)
    log(f"validation ({int8_result.n} clips, speakers unseen in training): float {float_result.accuracy:.4f}, "
        f"int8 {int8_result.accuracy:.4f} (drop {drop_points:.2f} points)")
    log(int8_result.report())

    metrics = {
        "architecture": config.architecture,
        "params": dict(config.model),
        "labels": labels,
        "float_val_accuracy": round(float_result.accuracy, 4),
        "int8_val_accuracy": round(int8_result.accuracy, 4),
        "int8_drop_points": round(drop_points, 2),
        "n_validation": int8_result.n,
        "n_train_examples": int(len(data.train.labels)),
        "train_clips_by_label_and_source": data.counts,
        "per_class": int8_result.per_class(),
        "confusion": int8_result.confusion.tolist(),
        "int8_weight_bytes": tflite_weight_bytes(tflite),
        "int8_parameter_bytes": count_int8_weight_bytes(model),
        "tflite_bytes": len(tflite),
        "epochs": len(history),
        "train_seconds": round(train_seconds, 1),
        "ablation_val_accuracy": ablation,
        "bad_files": [{"path": p, "reason": r} for p, r in data.bad_files],
        "validation": validation_description(config),
    }
    write_json_atomic(run_dir / "metrics.json", metrics)
    plot_training_curves(history, run_dir / "training_curves.png",
                         f"{config.architecture}: int8 validation accuracy {int8_result.accuracy:.3f}")
    plot_confusion(int8_result, run_dir / "confusion_matrix.png",
                   title=f"int8 {config.architecture}, validation speakers: accuracy {int8_result.accuracy:.3f}")
    return metrics
