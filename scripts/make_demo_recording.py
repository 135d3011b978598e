#!/usr/bin/env python3
"""Build the demo recordings of kws/data: commands (and wake words) said between read sentences, over noise.

demo_commands_in_speech.wav uses only real recordings from ../shared/data/real (licenses in
kws/data/LICENSE.md): Speech Commands v0.02 test clips (CC BY 4.0), speechocean762 sentences
(CC BY 4.0) and the Speech Commands "running tap" background noise (CC BY 4.0).
demo_computer_commands.wav is made the same way, with "computer" before two of the commands,
spoken by TTS voices the shipped `computer` run held out of training (its report voices): no
real recording of "computer" is in ../shared. Deterministic: the same inputs give the same bytes.
Usage: .venv/bin/python scripts/make_demo_recording.py [--data DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "kws" / "data" / "demo_commands_in_speech.wav"
OUT_TWO_STAGE = REPO / "kws" / "data" / "demo_computer_commands.wav"
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
#: (sentence before, wake-word voice or None, command clip): a command without the wake word first
#: (two-stage detection ignores it), then two "computer, <command>".
TWO_STAGE_PARTS = [
    ("speech/speechocean762/SPEAKER0001/000010035.flac", None, "speech_commands_v0.02_test/go/0fa1e7a9_nohash_1.wav"),
    ("speech/speechocean762/SPEAKER0005/000050010.flac", ("kokoro", "jf_gongitsune+jm_kumo", {"mix": 0.62, "speed": 1.0}),
     "speech_commands_v0.02_test/on/189cbabe_nohash_3.wav"),
    ("speech/speechocean762/SPEAKER0001/000010053.flac", ("piper", "en_US-joe-medium",
                                                          {"length_scale": 1.0, "noise_scale": 0.333, "noise_w_scale": 0.8}),
     "speech_commands_v0.02_test/stop/189cbabe_nohash_1.wav"),
]
WAKE_TO_COMMAND_S = 0.3
NOISE = "background_noise/running_tap.wav"
NOISE_DB_BELOW_SPEECH = 20.0
GAP_S = 0.5


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "real"))
    parser.add_argument("--out", default=str(OUT))
    parser.add_argument("--out-two-stage", default=str(OUT_TWO_STAGE))
    args = parser.parse_args()
    data = Path(args.data)
    parts = [(sentence, [(command, Path(command).parent.name)]) for sentence, command in PARTS]
    write_mix(data, parts, args.out)
    parts = [(sentence, ([(wake, "computer")] if wake else []) + [(command, Path(command).parent.name)])
             for sentence, wake, command in TWO_STAGE_PARTS]
    write_mix(data, parts, args.out_two_stage)
    return 0


def spoken(source, data: Path) -> np.ndarray:
    """A real clip (path under data) or "computer" from a TTS voice (engine, voice, settings), trimmed."""
    from kws.audio import read_audio_float, resample
    from kws.datasets.synth import ENGINE_CLASSES, VoiceSpec, trim_silence

    if isinstance(source, str):
        return read_audio_float(data / source, RATE)
    engine, voice, settings = source
    import tempfile

    with tempfile.TemporaryDirectory() as workdir:
        samples, rate = ENGINE_CLASSES[engine]().synthesize("computer", VoiceSpec.make(engine, voice, **settings),
                                                            seed=0, workdir=Path(workdir))
    audio = trim_silence(resample(samples, rate, RATE), RATE)
    return (audio * (0.25 / max(1e-9, float(np.max(np.abs(audio)))))).astype(np.float32)


def write_mix(data: Path, parts: list, out: str) -> None:
    from kws.audio import read_audio_float, write_wav, float_to_int16

    gap = np.zeros(int(GAP_S * RATE), np.float32)
    short_gap = np.zeros(int(WAKE_TO_COMMAND_S * RATE), np.float32)
    pieces, marks, t = [], [], 0
    for sentence, said in parts:
        pieces += [read_audio_float(data / sentence, RATE), gap]
        t += pieces[-2].size + gap.size
        for k, (source, label) in enumerate(said):
            audio = spoken(source, data)
            after = short_gap if k + 1 < len(said) else gap
            marks.append((label, (t + audio.size / 2) / RATE))
            pieces += [audio, after]
            t += audio.size + after.size
    pieces.append(read_audio_float(data / CLOSING, RATE))
    speech = np.concatenate(pieces)
    noise = read_audio_float(data / NOISE, RATE)[: speech.size]
    rms = lambda x: float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))  # noqa: E731
    noise = noise * (rms(speech) / rms(noise) * 10 ** (-NOISE_DB_BELOW_SPEECH / 20))
    mix = speech + noise
    mix *= 0.7 / max(1e-9, float(np.max(np.abs(mix))))
    write_wav(out, float_to_int16(mix), RATE)
    print(f"wrote {out}: {mix.size / RATE:.1f} s; words at " +
          ", ".join(f"{label} {time:.1f} s" for label, time in marks))


if __name__ == "__main__":
    raise SystemExit(main())
