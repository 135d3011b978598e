"""Choosing the clip decision rule's minimum keyword probability by cross-validation.

The rule (:mod:`kws.decision`) does not change training, so one cross-validation run serves every
threshold: each fold's int8 scores on its held-out sets (clean speech, held-out ``_silence_``,
speech with held-out noise at each SNR, held-out ambience windows) are stored once in
``foldK/validation_scores.npz`` and the thresholds are swept over them.

Picking the threshold on the same folds that report it is optimistic, so the quoted figure is
nested: for each fold the threshold is chosen on the *other* folds (the lowest one whose mean
ambience false-command rate there is within the goal) and applied to the held-out fold. Several
runs of one recipe (other seeds, same folds) are swept together: a fold's threshold is then chosen
on the other folds of every run, never on the same fold of another seed (it holds the same speakers
and noise).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import numpy as np

from kws.errors import ConfigError
from kws.fileio import atomic_path, write_json_atomic, write_text_atomic
from kws.training.validation import held_out_figures

SCORES_FILE = "validation_scores.npz"
#: Thresholds swept (probabilities); 0 is the plain argmax.
PROBABILITIES = tuple(round(p, 2) for p in np.arange(0.0, 0.81, 0.05))
#: The issue's goal: at most this share of unseen ambience windows called a command.
AMBIENCE_GOAL = 0.02


def save_fold_scores(path: Path, scores: dict[str, np.ndarray]) -> None:
    """Write one fold's held-out scores (:func:`kws.training.validation.held_out_scores`)."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, **scores)


def sweep(folds: list[dict], probabilities=PROBABILITIES, ambience_goal: float = AMBIENCE_GOAL,
          fold_ids: list[int] | None = None) -> dict:
    """Figures per threshold (mean over folds), and the nested choice per fold.

    ``fold_ids``: which held-out fold each entry is (several seeds of one CV share them); a fold's
    threshold is chosen on entries of other folds only. Default: every entry is its own fold."""
    fold_ids = list(range(len(folds))) if fold_ids is None else list(fold_ids)
    if len(fold_ids) != len(folds) or len(set(fold_ids)) < 2:
        raise ConfigError(f"sweep: need at least two distinct folds, got fold ids {fold_ids}")
    table = {p: [held_out_figures(f, p) for f in folds] for p in probabilities}
    rows = [{"min_keyword_probability": p,
             **{k: round(float(np.mean([f[k] for f in figs])), 4) for k in figs[0]}} for p, figs in table.items()]
    nested = []
    for k in range(len(folds)):
        others = [i for i in range(len(folds)) if fold_ids[i] != fold_ids[k]]
        within = [p for p in probabilities
                  if np.mean([table[p][i].get("ambience_false_command_rate", 0.0) for i in others]) <= ambience_goal]
        chosen = min(within) if within else max(probabilities)
        nested.append({"fold": fold_ids[k], "min_keyword_probability": chosen, **table[chosen][k]})
    keys = [k for k in nested[0] if k not in ("fold", "min_keyword_probability")]
    nested_mean = {k: round(float(np.mean([n[k] for n in nested])), 4) for k in keys}
    return {"ambience_goal": ambience_goal, "rows": rows, "nested_per_fold": nested, "nested_mean": nested_mean}


def load_runs(cv_dirs: list[Path]) -> tuple[list[dict], list[int]]:
    """Stored scores of every fold of several CV runs of one recipe, and each one's fold id."""
    folds, fold_ids = [], []
    for cv_dir in cv_dirs:
        ids_paths = sorted((int(p.parent.name.removeprefix("fold")), p) for p in cv_dir.glob(f"fold*/{SCORES_FILE}"))
        if len(ids_paths) < 2:
            raise ConfigError(f"{cv_dir}: needs the {SCORES_FILE} of at least 2 folds, found {len(ids_paths)} "
                              f"(folds trained before it was written: re-create with scripts/rejection_sweep.py "
                              f"--rescore)")
        for fold_id, path in ids_paths:
            with np.load(path) as data:
                folds.append({k: data[k] for k in data.files})
            fold_ids.append(fold_id)
    return folds, fold_ids


def markdown(result: dict) -> str:
    rows = result["rows"]
    keys = [k for k in rows[0] if k != "min_keyword_probability"]
    lines = ["| min keyword probability | " + " | ".join(keys) + " |", "|---" * (len(keys) + 1) + "|"]
    lines += [f"| {r['min_keyword_probability']:.2f} | " + " | ".join(f"{100 * r[k]:.2f} %" for k in keys) + " |"
              for r in rows]
    chosen = ", ".join(f"{n['min_keyword_probability']:.2f}" for n in result["nested_per_fold"])
    lines += ["", f"Nested (each fold's threshold chosen on the other folds: the lowest with mean ambience "
                  f"false-command rate ≤ {100 * result['ambience_goal']:g} %; chosen {chosen}): "
              + ", ".join(f"{k} {100 * v:.2f} %" for k, v in result["nested_mean"].items())]
    return "\n".join(lines) + "\n"


def plot(result: dict, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = result["rows"]
    ambience = [100 * r["ambience_false_command_rate"] for r in rows]
    fig, ax = plt.subplots(figsize=(7, 4.5), constrained_layout=True)
    for key, name in [("accuracy", "accuracy (clean + held-out silence)"), ("speech_snr_10db_accuracy", "speech at 10 dB")]:
        if key in rows[0]:
            ax.plot(ambience, [100 * r[key] for r in rows], marker="o", label=name)
    last_point = None
    for r, x in zip(rows, ambience):
        point = (x, 100 * r["accuracy"])
        if last_point is not None and abs(point[0] - last_point[0]) < 0.05 and abs(point[1] - last_point[1]) < 0.3:
            continue  # same operating point as the threshold labelled before it
        ax.annotate(f"{r['min_keyword_probability']:.2f}", point, fontsize=7, textcoords="offset points",
                    xytext=(3, 3))
        last_point = point
    ax.axvline(100 * result["ambience_goal"], color="grey", linestyle=":", label="ambience goal")
    ax.set_xlabel("held-out ambience windows called a command (%)")
    ax.set_ylabel("accuracy on held-out speakers (%)")
    ax.set_title(title)
    ax.legend(fontsize=8)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)


def write_rejection_report(cv_dir: str | Path, log: Callable[[str], None] = print, *, also: tuple = (),
                           out_dir: str | Path | None = None) -> dict:
    """Sweep the folds' stored scores; write ``rejection.json``, ``rejection.md`` and ``rejection.png``.

    ``also``: more CV runs of the same recipe (other seeds) swept with it; ``out_dir``: where the
    files go (default ``cv_dir``; required with ``also``, so no run's own report is overwritten)."""
    cv_dirs = [Path(cv_dir), *(Path(d) for d in also)]
    if also and out_dir is None:
        raise ConfigError("several CV runs: name the folder for their joint report (out_dir)")
    out = Path(out_dir) if out_dir is not None else cv_dirs[0]
    folds, fold_ids = load_runs(cv_dirs)
    result = sweep(folds, fold_ids=fold_ids)
    result["runs"] = [str(d) for d in cv_dirs]
    out.mkdir(parents=True, exist_ok=True)
    write_json_atomic(out / "rejection.json", result)
    write_text_atomic(out / "rejection.md", markdown(result))
    name = " + ".join(d.name for d in cv_dirs)
    plot(result, out / "rejection.png", f"{name}: minimum keyword probability (labels on points)")
    log("minimum keyword probability, nested over folds: "
        + ", ".join(f"{k} {v:.4f}" for k, v in result["nested_mean"].items()))
    return result


def rescore_fold(fold_dir: Path) -> None:
    """Re-create ``validation_scores.npz`` of a fold trained before it was written (same held-out sets)."""
    from kws.model import KwsModel
    from kws.training.config import train_config_from_dict
    from kws.training.data import real_split
    from kws.training.validation import held_out_audio, held_out_scores, validation_speech

    config = train_config_from_dict(json.loads((fold_dir / "train_config.json").read_text()))
    frontend = config.frontend_config
    _, validation, _ = real_split(config)
    speech, speech_labels = validation_speech(validation, config, frontend)
    scores = held_out_scores(KwsModel.load(fold_dir, running_frontend=frontend), speech, speech_labels, held_out_audio(config, frontend), config,
                             frontend)
    save_fold_scores(fold_dir / SCORES_FILE, scores)
