"""``kws features``: int8 MFCC features of an audio file, printed and drawn as a PNG."""

from __future__ import annotations

import argparse
from importlib import resources
from pathlib import Path

import numpy as np

from kws.audio import read_audio
from kws.config import FrontendConfig
from kws.fileio import atomic_path
from kws.frontend import compute_features, compute_mfcc

EXAMPLE_CLIP = "example_yes.wav"


def example_clip_path() -> Path:
    """Path of the bundled example clip (a real "yes" from Speech Commands, CC BY 4.0)."""
    return Path(str(resources.files("kws") / "data" / EXAMPLE_CLIP))


def plot_features(mfcc_q: np.ndarray, features: np.ndarray, config: FrontendConfig, title: str, out_png: Path) -> None:
    """Two panels: the int16 MFCC in real units and the int8 codes the model sees."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    hop_s = config.hop_ms / 1000.0
    extent = (0.0, len(features) * hop_s, -0.5, config.n_mfcc - 0.5)
    fig, axes = plt.subplots(2, 1, figsize=(8, 5.5), constrained_layout=True)
    real = mfcc_q.astype(np.float64) / (1 << config.mfcc_frac_bits)
    for ax, data, label in ((axes[0], real, "MFCC (real units)"), (axes[1], features, "int8 feature code")):
        image = ax.imshow(data.T, origin="lower", aspect="auto", extent=extent, cmap="magma", interpolation="nearest")
        ax.set_ylabel("coefficient")
        fig.colorbar(image, ax=ax, label=label)
    axes[0].set_title(title)
    axes[1].set_xlabel("time (s)")
    with atomic_path(out_png) as tmp:
        fig.savefig(tmp, dpi=120, format="png")
    plt.close(fig)


def run(args: argparse.Namespace) -> int:
    config = FrontendConfig()
    path = Path(args.audio) if args.audio else example_clip_path()
    pcm = read_audio(path, config.sample_rate_hz)
    mfcc_q = compute_mfcc(pcm, config)
    features = compute_features(pcm, config)
    duration_s = pcm.size / config.sample_rate_hz
    print(f"{path}: {duration_s:.3f} s, {len(features)} frames x {config.n_mfcc} MFCC "
          f"(front end {config.config_hash()})")
    print(f"int8 features: scale {config.feature_scale} zero point {config.feature_zero_point}, "
          f"min {features.min() if features.size else 0} max {features.max() if features.size else 0}")
    if args.png:
        plot_features(mfcc_q, features, config, f"{path.name}: fixed-point MFCC", Path(args.png))
        print(f"wrote {args.png}")
    if args.npy:
        with atomic_path(args.npy) as tmp:
            with open(tmp, "wb") as f:
                np.save(f, features)
        print(f"wrote {args.npy}")
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("features", help="compute the device's int8 MFCC features of an audio file",
                                   description="Compute the fixed-point MFCC features of an audio file "
                                               "(default: the bundled example clip).")
    parser.add_argument("audio", nargs="?", help="WAV/FLAC/OGG file (default: bundled example 'yes')")
    parser.add_argument("--png", help="write a picture of the features to this PNG")
    parser.add_argument("--npy", help="write the int8 features [frames, n_mfcc] to this .npy file")
    parser.set_defaults(func=run)
