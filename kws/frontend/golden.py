"""Golden vectors for the front end: language-neutral JSON files (params + input + expected).

Written by ``python -m kws.frontend.golden [OUT_DIR]`` (``make golden``), checked
by ``tests/test_frontend_golden.py`` and turned into C test inputs by the
exporter's test harness. Each file holds::

    {"name", "description", "frontend": {FrontendConfig fields}, "config_hash",
     "input_pcm_int16": [n], "expected_mfcc_int16": [[n_mfcc] * frames],
     "expected_features_int8": [[n_mfcc] * frames]}
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from kws.audio import read_audio
from kws.config import FrontendConfig, frontend_from_dict
from kws.fileio import write_text_atomic
from kws.frontend.pipeline import compute_mfcc, quantize_features

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "tests" / "golden" / "frontend"


def golden_inputs(config: FrontendConfig) -> dict[str, tuple[str, np.ndarray]]:
    """Named int16 inputs: real speech plus worst cases for overflow and rounding."""
    from kws.commands.features import example_clip_path

    rate = config.sample_rate_hz
    n = rate // 2  # 0.5 s keeps the files small (24 frames)
    t = np.arange(n)
    speech = read_audio(example_clip_path(), rate)
    start = max(0, int(np.argmax(np.abs(speech))) - n // 2)
    square = np.where((t // 8) % 2 == 0, 32767, -32768).astype(np.int16)  # 1 kHz full-scale square
    impulses = np.zeros(n, np.int16)
    impulses[:: config.hop_samples // 3] = 32767
    impulses[1 :: config.hop_samples // 3] = -32768
    rng = np.random.default_rng(1234)
    clipped = np.clip(rng.normal(0, 30000, n), -32768, 32767).astype(np.int16)
    chirp = (20 * np.sin(2 * np.pi * (100 + 3900 * t / n) * t / rate)).astype(np.int16)
    return {
        "speech": ("0.5 s of the bundled example 'yes' (Speech Commands, CC BY 4.0)", speech[start : start + n]),
        "square_full_scale": ("full-scale 1 kHz square wave, +32767/-32768", square),
        "dc_negative_full_scale": ("constant -32768", np.full(n, -32768, np.int16)),
        "impulses": ("full-scale impulse pairs every 106 samples", impulses),
        "clipped_noise": ("Gaussian noise at 30000 rms, clipped to int16", clipped),
        "quiet_chirp": ("100-4000 Hz chirp at amplitude 20 LSB (-64 dBFS)", chirp),
        "silence": ("all zeros (digital silence)", np.zeros(n, np.int16)),
    }


def make_vector(name: str, description: str, pcm: np.ndarray, config: FrontendConfig) -> dict:
    mfcc = compute_mfcc(pcm, config)
    return {
        "name": name,
        "description": description,
        "frontend": config.to_dict(),
        "config_hash": config.config_hash(),
        "input_pcm_int16": pcm.astype(int).tolist(),
        "expected_mfcc_int16": mfcc.astype(int).tolist(),
        "expected_features_int8": quantize_features(mfcc, config).astype(int).tolist(),
    }


def write_golden(out_dir: Path, config: FrontendConfig = FrontendConfig()) -> list[Path]:
    paths = []
    for name, (description, pcm) in golden_inputs(config).items():
        path = Path(out_dir) / f"{name}.json"
        write_text_atomic(path, json.dumps(make_vector(name, description, pcm, config), separators=(",", ":")) + "\n")
        paths.append(path)
    return paths


def read_golden(path: Path) -> tuple[FrontendConfig, np.ndarray, np.ndarray, np.ndarray]:
    """Return (config, input int16 [n], expected MFCC int16 [frames, n_mfcc], expected int8 features)."""
    data = json.loads(Path(path).read_text())
    config = frontend_from_dict(data["frontend"], where=str(path))
    n_mfcc = config.n_mfcc
    return (
        config,
        np.array(data["input_pcm_int16"], dtype=np.int16),
        np.array(data["expected_mfcc_int16"], dtype=np.int16).reshape(-1, n_mfcc),
        np.array(data["expected_features_int8"], dtype=np.int8).reshape(-1, n_mfcc),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="Write the front-end golden vectors.")
    parser.add_argument("out_dir", nargs="?", default=str(DEFAULT_DIR))
    args = parser.parse_args()
    for path in write_golden(Path(args.out_dir)):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
