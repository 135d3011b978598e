"""Dataset summary: counts per label and source, speakers, duration, and a class-balance PNG."""

from __future__ import annotations

import collections
import dataclasses
from pathlib import Path
from typing import Sequence

from kws.datasets.manifest import ClipRecord
from kws.fileio import atomic_path


@dataclasses.dataclass
class Summary:
    counts: dict[str, dict[str, int]]
    """label -> source -> number of clips."""
    speakers: dict[str, int]
    """source -> number of distinct speakers (or voices)."""
    duration_s: dict[str, float]
    """source -> total audio duration in seconds."""
    unreadable: list[str]

    @property
    def labels(self) -> list[str]:
        return sorted(self.counts)

    @property
    def sources(self) -> list[str]:
        return sorted({s for per_source in self.counts.values() for s in per_source})

    def table(self) -> str:
        sources = self.sources
        width = max([len(label) for label in self.labels] + [5])
        lines = [f"{'label':<{width}} " + " ".join(f"{s:>10}" for s in sources) + f" {'total':>8}"]
        for label in self.labels:
            row = [self.counts[label].get(s, 0) for s in sources]
            lines.append(f"{label:<{width}} " + " ".join(f"{n:>10}" for n in row) + f" {sum(row):>8}")
        totals = [sum(self.counts[label].get(s, 0) for label in self.labels) for s in sources]
        lines.append(f"{'total':<{width}} " + " ".join(f"{n:>10}" for n in totals) + f" {sum(totals):>8}")
        for s in sources:
            lines.append(f"{s}: {self.speakers.get(s, 0)} speakers/voices, {self.duration_s.get(s, 0.0) / 60:.1f} min")
        return "\n".join(lines)


def summarise(records: Sequence[ClipRecord]) -> Summary:
    """Count ``records`` by label and source; durations from file headers (no decoding)."""
    import soundfile as sf

    counts: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    speakers: dict[str, set] = collections.defaultdict(set)
    duration: dict[str, float] = collections.defaultdict(float)
    unreadable = []
    for record in records:
        counts[record.label][record.source] += 1
        speakers[record.source].add(record.speaker)
        try:
            info = sf.info(record.path)
            duration[record.source] += info.frames / info.samplerate
        except (RuntimeError, sf.LibsndfileError, OSError) as exc:
            unreadable.append(f"{record.path}: {exc}")
    return Summary(
        counts={label: dict(c) for label, c in counts.items()},
        speakers={s: len(v) for s, v in speakers.items()},
        duration_s=dict(duration),
        unreadable=unreadable,
    )


def plot_class_balance(summary: Summary, out_png: str | Path, title: str = "class balance") -> None:
    """Stacked bar chart of clips per label, one colour per source."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    labels = summary.labels
    fig, ax = plt.subplots(figsize=(max(6, 0.55 * len(labels) + 2), 4), constrained_layout=True)
    bottom = np.zeros(len(labels))
    for source in summary.sources:
        values = np.array([summary.counts[label].get(source, 0) for label in labels])
        ax.bar(labels, values, bottom=bottom, label=source)
        bottom += values
    ax.set_ylabel("clips")
    ax.set_title(title)
    ax.legend()
    ax.tick_params(axis="x", rotation=45)
    with atomic_path(out_png) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
