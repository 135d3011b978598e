"""FRR at several false-accept rates, from the JSON files of scripts/eval_stream_wakeword.sh, as a Markdown table.

    .venv/bin/python scripts/wakeword_det_table.py runs/alexa/eval_stream [runs/jarvis/eval_stream ...]

Each row is one condition of one run (clean, mixed, 10 dB); each column the lowest FRR of one common threshold
whose false accepts per hour on the run's report negatives stay within the column's rate. With 0.25 h of
negatives one false accept is 4 FA/h, so the first column (0.5 FA/h) means "no false accept at all".
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

FA_PER_HOUR = (0.5, 4.0, 8.0, 16.0, 32.0)
CONDITIONS = {"clean": "clean (clip alone)", "mixed": "mixed at recorded level", "10": "mixed at 10 dB SNR"}


def frr_at(curve: list, fa_per_hour: float) -> float | None:
    """Lowest FRR among the thresholds whose FA/h is within ``fa_per_hour``."""
    rates = [frr for fa, frr, _ in curve if fa is not None and fa <= fa_per_hour]
    return min(rates) if rates else None


def main(folders: list[str]) -> int:
    if not folders:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    print("| run | condition | " + " | ".join(f"FRR at ≤ {f:g} FA/h" for f in FA_PER_HOUR) + " | hours |")
    print("|---|---|" + "---|" * (len(FA_PER_HOUR) + 1))
    for folder in map(Path, folders):
        for name, title in CONDITIONS.items():
            path = folder / f"{name}.json"
            if not path.is_file():
                continue
            result = json.loads(path.read_text())
            cells = [frr_at(result["curve"], f) for f in FA_PER_HOUR]
            text = " | ".join("–" if c is None else f"{c:.3f}" for c in cells)
            print(f"| {folder.parent.name} | {title} | {text} | {result['hours_negative']:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
