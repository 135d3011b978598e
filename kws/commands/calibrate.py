"""``kws calibrate``: per-label thresholds for a target false-accept rate, written to the model's detector.json."""

from __future__ import annotations

import argparse
import os


def run(args: argparse.Namespace) -> int:
    from kws.commands.eval_stream import load_negatives
    from kws.detector import detector_config_path, model_detector_config, probability_to_int8, write_detector_config
    from kws.errors import ConfigError
    from kws.frontend.native import streaming_frontend
    from kws.model import KwsModel
    from kws.stream_eval import calibrate_thresholds, record

    if args.target_fa_per_hour <= 0:
        raise ConfigError(f"--target-fa-per-hour {args.target_fa_per_hour}: must be > 0")
    from kws.model_native import fastest_model

    model, model_note = fastest_model(KwsModel.load(args.model))
    config = model_detector_config(model.source)
    rate = model.frontend.sample_rate_hz
    negatives, files = load_negatives(args.negatives, rate)
    frontend, note = streaming_frontend(model.frontend)
    hours = sum(p.size for p in negatives) / rate / 3600
    print(f"model {model.source}; {len(files)} negative files, {hours:.3f} h; {note}; {model_note}")
    negative = record(model, config, iter(negatives), frontend=frontend, progress="negatives")
    floor = probability_to_int8(args.min_probability, model.output_scale, model.output_zero_point)
    thresholds = calibrate_thresholds(model, config, negative, args.target_fa_per_hour, floor)
    calibrated = config.with_thresholds(thresholds)
    path = args.out or detector_config_path(args.model)
    root = os.path.commonpath([os.path.abspath(p) for p in args.negatives])
    if os.path.isfile(root):
        root = os.path.dirname(root)
    names = sorted(os.path.relpath(os.path.abspath(p), root) for p in args.negatives)
    write_detector_config(path, calibrated, calibration={
        "target_false_accepts_per_hour": args.target_fa_per_hour,
        "rule": "per keyword: lowest int8 threshold >= min_threshold_int8 whose FA/h on the negatives, with only "
                "that keyword enabled, is <= target / n_keywords",
        "min_threshold_int8": floor, "hours_negative": round(hours, 4),
        "negatives_root": os.path.basename(root), "negatives": names})
    for label, value in thresholds.items():
        print(f"{label:<10} threshold {value:4d} (p {(value + 128) / 256:.3f})")
    print(f"wrote {path} (detector {calibrated.config_hash()})")
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "calibrate", help="set per-label thresholds for a target false-accept rate",
        description="Stream negative audio (no keywords) through the model once and choose, per keyword, the "
                    "lowest threshold whose false accepts per hour stay within target / number of keywords; "
                    "writes them into the model's detector.json atomically.")
    parser.add_argument("model", metavar="MODEL", help="run folder or shipped model name")
    parser.add_argument("--negatives", required=True, action="append", metavar="PATH",
                        help="negative audio folders (recursive) or files; repeatable")
    parser.add_argument("--target-fa-per-hour", type=float, default=0.5, metavar="X")
    parser.add_argument("--min-probability", type=float, default=0.5, metavar="P",
                        help="never calibrate a threshold below this probability (default 0.5)")
    parser.add_argument("--out", metavar="FILE.json", help="write here instead of the model's detector.json")
    parser.set_defaults(func=run)
