"""Choosing the clip decision rule's minimum keyword probability by cross-validation.

The rule (:mod:`kws.decision`) does not change training, so one cross-validation run serves every
threshold: each fold's int8 scores on its held-out sets (clean speech, held-out ``_silence_``,
speech with held-out noise at each SNR, held-out ambience windows) are stored once in
``foldK/validation_scores.npz`` and the thresholds are swept over them.

Picking the threshold on the same folds that report it is optimistic, so the quoted figure is
nested: for each fold the threshold is chosen on the *other* folds (the lowest one whose mean
ambience false-command rate there is within the goal) and applied to the held-out fold.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import numpy as np

from kws.decision import decide, keyword_mask, probability_to_score_int8
from kws.errors import ConfigError
from kws.fileio import atomic_path, write_json_atomic, write_text_atomic

SCORES_FILE = "validation_scores.npz"
#: Thresholds swept (probabilities); 0 is the plain argmax.
PROBABILITIES = tuple(round(p, 2) for p in np.arange(0.0, 0.81, 0.05))
#: The issue's goal: at most this share of unseen ambience windows called a command.
AMBIENCE_GOAL = 0.02


def save_fold_scores(path: Path, labels: list[str], speech_labels: np.ndarray, sets: dict[str, np.ndarray],
                     output_scale: float, output_zero_point: int) -> None:
    """Write one fold's int8 scores per validation set (``clean``, ``silence``, ``snr_10``, ``ambience``, ...)."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, labels=np.array(labels), speech_labels=speech_labels, output_scale=output_scale,
                     output_zero_point=output_zero_point, **{f"scores_{k}": v for k, v in sets.items()})


def fold_figures(scores: dict, probability: float) -> dict[str, float]:
    """Accuracy (speech + held-out silence), speech accuracy clean / per SNR, ambience false-command rate."""
    labels = list(scores["labels"])
    is_keyword = keyword_mask(labels)
    minimum = None if probability <= 0 else probability_to_score_int8(
        probability, float(scores["output_scale"]), int(scores["output_zero_point"]))
    speech_truth = scores["speech_labels"]
    correct = [decide(scores["scores_clean"], is_keyword, minimum) == speech_truth]
    clean = float(correct[0].mean())
    if "scores_silence" in scores and len(scores["scores_silence"]):
        correct.append(decide(scores["scores_silence"], is_keyword, minimum) == labels.index("_silence_"))
    out = {"accuracy": float(np.concatenate(correct).mean()), "speech_clean_accuracy": clean}
    snr_keys = [k for k in scores if k.startswith("scores_snr_")]
    for key in sorted(snr_keys, key=lambda k: -float(k.removeprefix("scores_snr_"))):
        name = key.removeprefix("scores_")
        out[f"speech_{name}db_accuracy"] = float((decide(scores[key], is_keyword, minimum) == speech_truth).mean())
    if "scores_ambience" in scores and len(scores["scores_ambience"]):
        out["ambience_false_command_rate"] = float(is_keyword[decide(scores["scores_ambience"], is_keyword,
                                                                     minimum)].mean())
    return out


def sweep(folds: list[dict], probabilities=PROBABILITIES, ambience_goal: float = AMBIENCE_GOAL) -> dict:
    """Figures per threshold (mean over folds), and the nested choice per fold."""
    table = {p: [fold_figures(f, p) for f in folds] for p in probabilities}
    rows = [{"min_keyword_probability": p,
             **{k: round(float(np.mean([f[k] for f in figs])), 4) for k in figs[0]}} for p, figs in table.items()]
    nested = []
    for k in range(len(folds)):
        others = [i for i in range(len(folds)) if i != k]
        within = [p for p in probabilities
                  if np.mean([table[p][i].get("ambience_false_command_rate", 0.0) for i in others]) <= ambience_goal]
        chosen = min(within) if within else max(probabilities)
        nested.append({"fold": k, "min_keyword_probability": chosen, **table[chosen][k]})
    keys = [k for k in nested[0] if k not in ("fold", "min_keyword_probability")]
    nested_mean = {k: round(float(np.mean([n[k] for n in nested])), 4) for k in keys}
    return {"ambience_goal": ambience_goal, "rows": rows, "nested_per_fold": nested, "nested_mean": nested_mean}


def load_fold_scores(cv_dir: Path) -> list[dict]:
    paths = sorted(cv_dir.glob(f"fold*/{SCORES_FILE}"), key=lambda p: int(p.parent.name.removeprefix("fold")))
    if len(paths) < 2:
        raise ConfigError(f"{cv_dir}: needs the {SCORES_FILE} of at least 2 folds, found {len(paths)} "
                          f"(folds trained before it was written: re-create with scripts/rejection_sweep.py --rescore)")
    out = []
    for path in paths:
        with np.load(path) as data:
            out.append({k: data[k] for k in data.files})
    return out


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


def write_rejection_report(cv_dir: str | Path, log: Callable[[str], None] = print) -> dict:
    """Sweep the folds' stored scores; write ``rejection.json``, ``rejection.md`` and ``rejection.png``."""
    cv_dir = Path(cv_dir)
    result = sweep(load_fold_scores(cv_dir))
    write_json_atomic(cv_dir / "rejection.json", result)
    write_text_atomic(cv_dir / "rejection.md", markdown(result))
    plot(result, cv_dir / "rejection.png", f"{cv_dir.name}: minimum keyword probability (labels on points)")
    log("minimum keyword probability, nested over folds: "
        + ", ".join(f"{k} {v:.4f}" for k, v in result["nested_mean"].items()))
    return result


def rescore_fold(fold_dir: Path) -> None:
    """Re-create ``validation_scores.npz`` of a fold trained before it was written (same held-out sets)."""
    from kws.audio import read_audio
    from kws.clips import fit_to_clip
    from kws.config import FrontendConfig
    from kws.model import KwsModel
    from kws.training.config import train_config_from_dict
    from kws.training.data import real_split
    from kws.training.validation import held_out_audio

    config = train_config_from_dict(json.loads((fold_dir / "train_config.json").read_text()))
    frontend = FrontendConfig()
    _, validation, _ = real_split(config)
    speech = [(r, fit_to_clip(read_audio(r.path, frontend.sample_rate_hz), frontend.clip_samples))
              for r in validation if r.label != "_silence_"]
    index = {label: i for i, label in enumerate(config.labels)}
    store_validation_scores(fold_dir, KwsModel.load(fold_dir), [pcm for _, pcm in speech],
                            np.array([index[r.label] for r, _ in speech]), held_out_audio(config, frontend), config)


def store_validation_scores(run_dir: Path, model, speech: list[np.ndarray], speech_labels: np.ndarray, audio,
                            config) -> None:
    """int8 scores of every held-out set of a fold, for :func:`sweep`."""
    from kws.frontend import compute_features_many
    from kws.training.validation import noisy_copies

    def scores(clips: list[np.ndarray]) -> np.ndarray:
        if not clips:
            return np.zeros((0, model.n_classes), np.int8)
        return model.scores_batch(np.stack(compute_features_many(clips, model.frontend)))

    sets = {"clean": scores(speech), "silence": scores(audio.silence), "ambience": scores(audio.ambience)}
    if audio.bank is not None:
        for snr in config.noisy_snr_db:
            sets[f"snr_{snr:g}"] = scores(noisy_copies(speech, audio, config, snr))
    save_fold_scores(run_dir / SCORES_FILE, list(model.labels), speech_labels, sets, model.output_scale,
                     model.output_zero_point)
