#!/usr/bin/env python3
"""Link the keyword clips of the shipped model's validation speakers into OUT/<label>/ (for kws eval-stream).

The shipped `commands` model trained on 75 % of the speakers of speech_commands_v0.02_test; its
validation speakers are the ones with ``speaker_position(speaker) < 0.25`` (training/config.py:
validation_fraction 0.25, split_salt ""). Only those clips measure false rejects fairly.
Usage: scripts/held_out_positives.py SPEECH_COMMANDS_DIR OUT
"""

from __future__ import annotations

import sys
from pathlib import Path

from kws.datasets.folders import speaker_from_name, speaker_position

KEYWORDS = ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go")
VALIDATION_FRACTION = 0.25


def main(source: str, out: str) -> int:
    count = 0
    for label in KEYWORDS:
        target = Path(out) / label
        target.mkdir(parents=True, exist_ok=True)
        for wav in sorted((Path(source) / label).glob("*.wav")):
            if speaker_position(speaker_from_name(wav.stem, label)) < VALIDATION_FRACTION:
                link = target / wav.name
                if not link.exists():
                    link.symlink_to(wav.resolve())
                count += 1
    print(f"{count} held-out keyword clips linked under {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:3]))
