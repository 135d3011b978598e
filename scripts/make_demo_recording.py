#!/usr/bin/env python3
"""Build kws/data/demo_commands_in_speech.wav: commands said between read sentences, over noise.

Only real recordings from ../shared/data/real are used (licenses in kws/data/LICENSE.md):
Speech Commands v0.02 test clips (CC BY 4.0), speechocean762 sentences (CC BY 4.0) and the
Speech Commands "running tap" background noise (CC BY 4.0). Deterministic: the same inputs
give the same bytes. Usage: .venv/bin/python scripts/make_demo_recording.py [--data DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "kws" / "data" / "demo_commands_in_speech.wav"
RATE = 16000
#: (sentence before, command clip) pairs, in order; one final sentence closes the recording.
PARTS = [
    ("speech/speechocean762/SPEAKER0001/000010011.flac", "speech_commands_v0.02_test/yes/26b28ea7_nohash_0.wav"),
    ("speech/speechocean762/SPEAKER0005/000050010.flac", "speech_commands_v0.02_test/no/189cbabe_nohash_1.wav"),
    ("speech/speechocean762/SPEAKER0001/000010106.flac", "speech_commands_v0.02_test/go/0fa1e7a9_nohash_1.wav"),
    ("speech/speechocean762/SPEAKER0005/000050024.flac", "speech_commands_v0.02_test/on/189cbabe_nohash_3.wav"),
    ("speech/speechocean762/SPEAKER0001/000010075.flac", "speech_commands_v0.02_test/stop/189cbabe_nohash_1.wav"),
]
CLOSING = "speech/speechocean762/SPEAKER0005/000050038.flac"
NOISE = "background_noise/running_tap.wav"
NOISE_DB_BELOW_SPEECH = 20.0
GAP_S = 0.5


def main() -> int:
    from kws.audio import read_audio_float, write_wav, float_to_int16

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "real"))
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args()
    data = Path(args.data)
    gap = np.zeros(int(GAP_S * RATE), np.float32)
    pieces, marks, t = [], [], 0
    for sentence, command in PARTS:
        for path, is_command in ((sentence, False), (command, True)):
            audio = read_audio_float(data / path, RATE)
            if is_command:
                marks.append((Path(command).parent.name, (t + audio.size / 2) / RATE))
            pieces += [audio, gap]
            t += audio.size + gap.size
    pieces.append(read_audio_float(data / CLOSING, RATE))
    speech = np.concatenate(pieces)
    noise = read_audio_float(data / NOISE, RATE)[: speech.size]
    rms = lambda x: float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))  # noqa: E731
    noise = noise * (rms(speech) / rms(noise) * 10 ** (-NOISE_DB_BELOW_SPEECH / 20))
    mix = speech + noise
    mix *= 0.7 / max(1e-9, float(np.max(np.abs(mix))))
    write_wav(args.out, float_to_int16(mix), RATE)
    print(f"wrote {args.out}: {mix.size / RATE:.1f} s; commands at " +
          ", ".join(f"{label} {time:.1f} s" for label, time in marks))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
