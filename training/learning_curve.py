"""What more data would buy: cross-validated accuracy against the share of real training speakers
and against the amount of synthetic speech.

Each point is a full k-fold speaker cross-validation (:mod:`kws.training.cv`) of the same recipe
with one knob changed: ``real_speaker_share`` in 0.25 / 0.5 / 0.75 / 1, and the synthetic clip
counts scaled by 0 / 0.5 / 1 / 2. The point (1, 1x) is the recipe itself and is trained once.
Output: ``OUT/<point>/`` (a CV folder each), ``OUT/learning_curve.json`` and ``OUT/learning_curve.png``.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Callable

from kws.fileio import atomic_path, write_json_atomic
from kws.training.config import TrainConfig

REAL_SHARES = (0.25, 0.5, 0.75, 1.0)
SYNTHETIC_SCALES = (0.0, 0.5, 1.0, 2.0)


def curve_points(config: TrainConfig) -> dict[str, TrainConfig]:
    """Point name -> config: the real-speaker axis at 1x synthetic, the synthetic axis at all speakers."""
    points = {f"real{share:g}_synth1": dataclasses.replace(config, real_speaker_share=share) for share in REAL_SHARES}
    for scale in SYNTHETIC_SCALES:
        if scale == 1.0:
            continue
        points[f"real1_synth{scale:g}"] = dataclasses.replace(
            config, use_synthetic=scale > 0, synthetic_per_keyword=round(config.synthetic_per_keyword * scale),
            synthetic_unknown=round(config.synthetic_unknown * scale))
    return points


def plot_curve(results: dict, path: Path, n_folds: int, folds_run: list[int] | None = None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (real_ax, synth_ax) = plt.subplots(1, 2, figsize=(10, 4), sharey=True, constrained_layout=True)
    for ax, key, xs, label in ((real_ax, "real{:g}_synth1", REAL_SHARES, "share of real training speakers"),
                               (synth_ax, "real1_synth{:g}", SYNTHETIC_SCALES, "synthetic speech (x today's amount)")):
        names = [key.format(x) for x in xs]  # both axes meet at "real1_synth1"
        means = [results[n]["mean"] if n in results else float("nan") for n in names]
        stds = [results[n]["std"] if n in results else 0.0 for n in names]
        # each fold as a thin line: the folds differ by a fixed offset, so their slopes are the paired evidence
        n_lines = max((len(results[n].get("folds", [])) for n in names if n in results), default=0)
        for k in range(n_lines if n_lines > 1 else 0):
            fold = [results[n]["folds"][k] if n in results and len(results[n].get("folds", [])) > k else float("nan")
                    for n in names]
            ax.plot(xs, fold, color="0.7", linewidth=0.8, marker=".", label="one fold" if k == 0 else None)
        ax.errorbar(xs, means, yerr=stds, marker="o", capsize=3, label="mean ± std over folds")
        ax.legend(loc="lower right", fontsize=8)
        ax.set_xlabel(label)
        ax.grid(alpha=0.3)
    which = f"folds {','.join(map(str, folds_run))} of {n_folds}" if folds_run and len(folds_run) < n_folds else f"{n_folds}-fold"
    real_ax.set_ylabel(f"int8 accuracy ({which} speaker CV, mean ± std)")
    fig.suptitle("learning curve")
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)


def run_learning_curve(config: TrainConfig, out_dir: str | Path, n_folds: int, *, resume: bool = False,
                       only_folds: list[int] | None = None, log: Callable[[str], None] = print) -> dict:
    """Cross-validate every point (finished points and folds are kept with ``resume``) and plot the curve.

    ``only_folds`` runs every point on those folds only (a cheaper curve; the figures are then means
    over fewer folds, which the plot and the JSON say). With ``resume``, a fold folder of an earlier
    cross-validation of the recipe copied to ``OUT/real1_synth1/fold<k>`` is kept, so the recipe
    itself need not be trained again.
    """
    from kws.training.cv import CV_FILE, run_cross_validation

    out = Path(out_dir)
    folds_run = sorted(set(only_folds)) if only_folds else list(range(n_folds))
    results = {}
    for name, point in curve_points(config).items():
        folder = out / name
        summary = json.loads((folder / CV_FILE).read_text()) if resume and (folder / CV_FILE).is_file() else None
        if summary is None or summary.get("folds_run", list(range(n_folds))) != folds_run:
            log(f"learning curve point {name}")
            summary = run_cross_validation(point, folder, n_folds, resume=resume, only_folds=folds_run, log=log)
        results[name] = summary["int8_accuracy"]
    write_json_atomic(out / "learning_curve.json", {"n_folds": n_folds, "folds_run": folds_run, "points": results})
    plot_curve(results, out / "learning_curve.png", n_folds, folds_run)
    return results
