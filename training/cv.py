"""k-fold speaker cross-validation of a training recipe: one run per fold, one summary.

Recipes are chosen by this figure, never by one small split: every speaker of the real set
validates exactly once, and the noise recordings are dealt into folds the same way, so each
fold's silence, noisy-speech and ambience figures come from recordings its training never used.

Output folder::

    RUN/fold0 .. fold{k-1}/   a complete run folder each (model, metrics.json, pictures)
    RUN/cv.json               mean and standard deviation over folds of every figure, per class too
    RUN/cv.md                 the same as tables, one row per fold
    RUN/cv_accuracy.png       accuracy per fold, clean and noisy
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Callable

import numpy as np

from kws.errors import ConfigError
from kws.fileio import atomic_path, write_json_atomic, write_text_atomic
from kws.training.config import TrainConfig

CV_FILE = "cv.json"


def fold_config(config: TrainConfig, n_folds: int, fold: int) -> TrainConfig:
    """The config of one fold: speakers of ``fold`` validate; no ablation runs inside CV."""
    return dataclasses.replace(config, folds=n_folds, fold=fold, all_speakers=False, ablation_epochs=0)


def _mean_std(values: list[float]) -> dict:
    array = np.asarray(values, dtype=np.float64)
    return {"mean": round(float(array.mean()), 4), "std": round(float(array.std(ddof=1)) if array.size > 1 else 0.0, 4),
            "folds": [round(float(v), 4) for v in array]}


def summarise_folds(fold_metrics: list[dict], config: TrainConfig, n_folds: int, seconds: float,
                    fold_ids: list[int] | None = None) -> dict:
    """Mean ± standard deviation (over folds) of int8 accuracy, per-class recall and robustness."""
    fold_ids = list(range(n_folds)) if fold_ids is None else fold_ids
    summary = {
        "n_folds": n_folds,
        "folds_run": fold_ids,
        "architecture": config.architecture,
        "params": dict(config.model),
        "int8_accuracy": _mean_std([m["int8_val_accuracy"] for m in fold_metrics]),
        "float_accuracy": _mean_std([m["float_val_accuracy"] for m in fold_metrics]),
        "n_validation": [m["n_validation"] for m in fold_metrics],
        "int8_weight_bytes": fold_metrics[0]["int8_weight_bytes"],
        "per_class_recall": {label: _mean_std([m["per_class"][label]["recall"] for m in fold_metrics])
                             for label in config.labels},
        "train_minutes_per_fold": round(seconds / 60 / max(len(fold_ids), 1), 1),
    }
    robustness = [m.get("robustness", {}) for m in fold_metrics]
    keys = sorted({k for r in robustness for k, v in r.items() if isinstance(v, float)})
    summary["robustness"] = {k: _mean_std([r[k] for r in robustness if k in r]) for k in keys}
    return summary


def markdown(summary: dict, fold_metrics: list[dict]) -> str:
    rob_keys = list(summary["robustness"])
    fold_ids = summary.get("folds_run", list(range(summary["n_folds"])))
    screening = len(fold_ids) < summary["n_folds"]
    scope = f" (screening: folds {', '.join(map(str, fold_ids))} only)" if screening else ""
    lines = [f"# {summary['n_folds']}-fold speaker cross-validation{scope}: {summary['architecture']} {summary['params']}", "",
             f"int8 accuracy **{100 * summary['int8_accuracy']['mean']:.2f} % ± {100 * summary['int8_accuracy']['std']:.2f}** "
             f"(float {100 * summary['float_accuracy']['mean']:.2f} %), {summary['int8_weight_bytes']:,} bytes of int8 "
             f"weights, {summary['train_minutes_per_fold']} min per fold.", "",
             "| fold | clips | int8 acc | float acc | " + " | ".join(rob_keys) + " |",
             "|---|---|---|---|" + "---|" * len(rob_keys)]
    for i, m in zip(fold_ids, fold_metrics):
        rob = m.get("robustness", {})
        lines.append(f"| {i} | {m['n_validation']} | {m['int8_val_accuracy']:.4f} | {m['float_val_accuracy']:.4f} | "
                     + " | ".join(f"{rob.get(k, float('nan')):.4f}" for k in rob_keys) + " |")
    lines.append(f"| mean ± std | | {summary['int8_accuracy']['mean']:.4f} ± {summary['int8_accuracy']['std']:.4f} | "
                 f"{summary['float_accuracy']['mean']:.4f} | "
                 + " | ".join(f"{summary['robustness'][k]['mean']:.4f} ± {summary['robustness'][k]['std']:.4f}"
                              for k in rob_keys) + " |")
    lines += ["", "Per class (int8 recall, mean ± std over folds):", "", "| class | recall |", "|---|---|"]
    lines += [f"| {label} | {v['mean']:.3f} ± {v['std']:.3f} |" for label, v in summary["per_class_recall"].items()]
    return "\n".join(lines) + "\n"


def plot_folds(summary: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series = {"int8 (clean + held-out silence)": summary["int8_accuracy"]["folds"]}
    series.update({k.replace("_accuracy", ""): v["folds"] for k, v in summary["robustness"].items()
                   if k.endswith("_accuracy")})
    fig, ax = plt.subplots(figsize=(7, 4), constrained_layout=True)
    for name, values in series.items():
        ax.plot(range(len(values)), values, marker="o", label=f"{name}: {np.mean(values):.3f}")
    ax.set_xlabel("fold (held-out speakers and noise)")
    ax.set_ylabel("accuracy")
    fold_ids = summary.get("folds_run", list(range(summary["n_folds"])))
    ax.set_xticks(range(len(fold_ids)))
    ax.set_xticklabels([str(f) for f in fold_ids])
    ax.legend(fontsize=8)
    ax.set_title(f"{summary['n_folds']}-fold speaker cross-validation")
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)


def run_cross_validation(config: TrainConfig, out_dir: str | Path, n_folds: int, *, force: bool = False,
                         resume: bool = False, only_folds: list[int] | None = None,
                         log: Callable[[str], None] = print) -> dict:
    """Train every fold (``out_dir/fold<k>``), then write ``cv.json``, ``cv.md`` and ``cv_accuracy.png``.

    ``only_folds`` runs a subset (a cheap screening of a recipe change, to be compared with the same
    folds of the baseline, paired); the summary names the folds it covers.

    With ``resume``, finished folds (a ``metrics.json``) are kept and an interrupted one continues
    from its checkpoint.
    """
    from kws.training.train import check_architecture, run_training

    if n_folds < 2:
        raise ConfigError(f"--cv {n_folds}: cross-validation needs at least 2 folds")
    fold_ids = sorted(set(only_folds)) if only_folds else list(range(n_folds))
    if not all(0 <= f < n_folds for f in fold_ids):
        raise ConfigError(f"folds {fold_ids}: each must be in 0..{n_folds - 1}")
    out = Path(out_dir)
    for fold in fold_ids:  # every fold's teachers (if any) must hold out that fold's speakers
        check_architecture(fold_config(config, n_folds, fold), config.frontend_config)
    if out.exists() and any(out.iterdir()) and not (force or resume):
        raise ConfigError(f"{out} already exists; use --force to overwrite it or --resume to continue it")
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    fold_metrics = []
    for fold in fold_ids:
        fold_dir = out / f"fold{fold}"
        finished = fold_dir / "metrics.json"
        if resume and finished.is_file():
            log(f"fold {fold + 1}/{n_folds}: already trained, kept")
            fold_metrics.append(json.loads(finished.read_text()))
            continue
        log(f"fold {fold + 1}/{n_folds}")
        partial = resume and (fold_dir / "checkpoint").is_dir()
        fold_metrics.append(run_training(fold_config(config, n_folds, fold), fold_dir, force=force and not partial,
                                         resume=partial, log=log))
    summary = summarise_folds(fold_metrics, config, n_folds, time.perf_counter() - started, fold_ids)
    write_json_atomic(out / CV_FILE, summary)
    write_text_atomic(out / "cv.md", markdown(summary, fold_metrics))
    plot_folds(summary, out / "cv_accuracy.png")
    from kws.training.rejection import SCORES_FILE, write_rejection_report

    scored = [f for f in fold_ids if (out / f"fold{f}" / SCORES_FILE).is_file()]
    if len(fold_ids) >= 2 and scored == fold_ids:  # every threshold of the decision rule, nested over folds
        summary["rejection"] = write_rejection_report(out, log=log)["nested_mean"]
        write_json_atomic(out / CV_FILE, summary)
    log(f"cross-validation: int8 accuracy {summary['int8_accuracy']['mean']:.4f} ± {summary['int8_accuracy']['std']:.4f} "
        f"over {len(fold_ids)} of {n_folds} folds")
    return summary
