"""``kws bench``: benchmarks that print figures (speed ratios against a baseline in the same process)."""

from __future__ import annotations

import argparse
from pathlib import Path

from kws.config import FrontendConfig
from kws.errors import DataError


def default_speech_commands() -> Path:
    from kws.datasets.paths import data_root

    return data_root() / "speech_commands_v0.02_test"


def bench_frontend(args: argparse.Namespace) -> int:
    from kws.frontend import compute_features_many
    from kws.frontend.fidelity import (librosa_mfcc, load_clips, measure_fidelity, native_frontend, one_core,
                                       scale_to_dbfs, time_per_clip_s)

    config = FrontendConfig()
    folder = Path(args.data) if args.data else default_speech_commands()
    if not folder.is_dir():
        raise DataError(f"{folder}: data folder not found (set KWS_DATA or pass --data)")
    clips, bad = load_clips(folder, args.limit, config)
    for message in bad:
        print(f"skipped: {message}")
    if not clips:
        raise DataError(f"{folder}: no readable .wav clips")
    print(f"front end {config.config_hash()}: {len(clips)} clips from {folder}")

    normal = measure_fidelity(clips, config)
    quiet = measure_fidelity([scale_to_dbfs(c, -40.0) for c in clips], config)
    print(f"fidelity vs float reference ({normal.n_frames} frames):")
    print(f"  int16 MFCC  SNR {normal.mfcc_snr_db:6.2f} dB   at -40 dBFS {quiet.mfcc_snr_db:6.2f} dB")
    print(f"  int8 feature SNR {normal.feature_snr_db:6.2f} dB   at -40 dBFS {quiet.feature_snr_db:6.2f} dB")

    audio_s = sum(c.size for c in clips) / config.sample_rate_hz / len(clips)
    native, why_not = native_frontend(config)  # built (or found in the cache) outside the timing
    with one_core() as pinning:
        print(pinning)
        ours_s = time_per_clip_s(lambda cs: compute_features_many(cs, config), clips)
        print(f"speed: integer batch path {ours_s * 1e3:.3f} ms per {audio_s:.2f} s clip = "
              f"{audio_s / ours_s:.0f}x real time on one core")
        native_s = None
        if native is not None:
            native_s = time_per_clip_s(native.features_many, clips)
            print(f"        native C front end (gcc -O3 -march=native) {native_s * 1e3:.3f} ms per clip = "
                  f"{audio_s / native_s:.0f}x real time; native / numpy speed ratio {ours_s / native_s:.2f}")
        else:
            print(f"        native C front end not available: {why_not}")
        try:
            import librosa  # noqa: F401
        except ImportError:
            print("librosa not installed (pip install -e .[dev]): no librosa comparison")
            return 0
        librosa_mfcc(clips[0], config)  # warm up numba / caches outside the timing
        theirs_s = time_per_clip_s(lambda cs: [librosa_mfcc(c, config) for c in cs], clips)
    print(f"        librosa.feature.mfcc {theirs_s * 1e3:.3f} ms per clip = {audio_s / theirs_s:.0f}x real time; "
          f"kws / librosa speed ratio {theirs_s / ours_s:.2f}"
          + (f"; native / librosa speed ratio {theirs_s / native_s:.2f}" if native_s else ""))
    return 0


def bench_data(args: argparse.Namespace) -> int:
    import tempfile
    import time

    from kws.datasets.folders import load_label_folders
    from kws.training.augment import AugmentConfig
    from kws.training.features import featurise, jobs_for

    folder = Path(args.data) if args.data else default_speech_commands()
    started = time.perf_counter()
    load = load_label_folders(folder)
    listed_s = time.perf_counter() - started
    jobs = jobs_for(load.records, 0, seed=0)
    print(f"{len(jobs)} clips in {len(load.labels())} labels listed in {listed_s:.2f} s from {folder}")
    with tempfile.TemporaryDirectory() as cache:
        for attempt in ("cold (computing)", "warm (cached)"):
            started = time.perf_counter()
            result = featurise(jobs, frontend=FrontendConfig(), augment=AugmentConfig(), cache_dir=cache,
                               noise_names=None, n_jobs=args.jobs, description=attempt)
            seconds = time.perf_counter() - started
            print(f"load + featurise, {attempt}: {seconds:.2f} s = {len(result.kept) / seconds:.0f} clips/s "
                  f"({len(result.bad)} bad files)")
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("bench", help="print speed / fidelity / size figures",
                                   description="Benchmarks that print figures.")
    targets = parser.add_subparsers(dest="target", metavar="TARGET", required=True)
    frontend = targets.add_parser("frontend", help="front-end SNR vs float reference and speed vs librosa")
    frontend.add_argument("--data", help="folder of .wav clips (default: $KWS_DATA/speech_commands_v0.02_test)")
    frontend.add_argument("--limit", type=int, default=None, help="use at most this many clips (evenly spread)")
    frontend.set_defaults(func=bench_frontend)
    data = targets.add_parser("data", help="time loading + featurising a label folder, cold and cached")
    data.add_argument("--data", help="label folder (default: $KWS_DATA/speech_commands_v0.02_test)")
    data.add_argument("--jobs", type=int, default=2, help="worker processes")
    data.set_defaults(func=bench_data)
