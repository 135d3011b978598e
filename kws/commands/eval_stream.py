"""``kws eval-stream``: false reject rate and false accepts per hour on long, deterministic test streams."""

from __future__ import annotations

import argparse


def load_negatives(paths, rate, what="negatives"):
    from kws.errors import DataError
    from kws.stream_eval import audio_files, read_negatives

    files = audio_files(paths, what)
    pcm, bad = read_negatives(files, rate)
    for b in bad:
        print(f"skipped {what} file {b.path}: {b.reason}")
    if not pcm:
        raise DataError(f"{', '.join(map(str, paths))}: no readable {what} audio")
    return pcm, files


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from kws.detector import model_detector_config, read_detector_config
    from kws.errors import ConfigError, DataError
    from kws.fileio import write_json_atomic
    from kws.frontend.native import streaming_frontend
    from kws.model import KwsModel
    from kws.stream_eval import (Background, decode_positives, keyword_thresholds, operating_point, plot_det,
                                 positive_files, positive_stream, record, spread, summarise, sweep)

    if args.clean and args.snr_db is not None:
        raise ConfigError("--clean and --snr-db exclude each other: a clean positive has no background under it")
    if args.gap_s[0] < 0 or args.gap_s[1] < args.gap_s[0]:
        raise ConfigError(f"--gap-s {args.gap_s}: need 0 <= MIN <= MAX")
    from kws.model_native import fastest_model

    model, model_note = fastest_model(KwsModel.load(args.model))
    config = read_detector_config(args.detector) if args.detector else model_detector_config(model.source)
    rate = model.frontend.sample_rate_hz
    pairs, notes = positive_files(args.positives, model, config, args.keyword)
    for note in notes:
        print(note)
    pairs = spread(pairs, args.limit)
    clips, labels, files, bad = decode_positives(pairs, rate)
    for b in bad:
        print(f"skipped positive {b.path}: {b.reason}")
    if not clips:
        raise DataError(f"{args.positives}: none of the {len(pairs)} positive clips could be used")
    negatives, neg_files = load_negatives(args.negatives, rate)
    if args.noise:
        noise, _ = load_negatives(args.noise, rate, "noise")
        noise_bg = Background(noise)
        mixed = []
        for pcm in negatives:
            n = noise_bg.take(pcm.size).astype(np.float64)
            p_sig, p_noise = float(np.mean(np.square(pcm, dtype=np.float64))), float(np.mean(n * n))
            if p_noise > 0 and p_sig > 0:
                n *= np.sqrt(p_sig / p_noise * 10 ** (-args.noise_snr_db / 10))
            mixed.append(np.clip(np.round(pcm + n), -32768, 32767).astype(np.int16))
        negatives = mixed
    frontend, fe_note = streaming_frontend(model.frontend)
    print(f"model {model.source}; detector {config.config_hash()}; {fe_note}; {model_note}")
    print(f"{len(clips)} positive clips, {len(neg_files)} negative files "
          f"({sum(p.size for p in negatives) / rate / 3600:.3f} h)")
    placed = []
    positive = record(model, config, positive_stream(clips, labels, files, Background(negatives), rate,
                                                     seed=args.seed, gap_s=tuple(args.gap_s), snr_db=args.snr_db,
                                                     placed=placed, clean=args.clean),
                      frontend=frontend, progress="positive stream")
    frontend.reset()
    negative = record(model, config, iter(negatives), frontend=frontend, progress="negative stream")
    stored = summarise(model, config, keyword_thresholds(model, config), positive, placed, negative, args.tolerance_s)
    curve = sweep(model, config, positive, placed, negative, args.tolerance_s)
    point = operating_point(curve, args.target_fa_per_hour)
    result = {
        "model": model.source,
        "detector": config.to_dict(),
        "detector_hash": config.config_hash(),
        "false_reject_rate": stored["false_reject_rate"],
        "false_accepts_per_hour": stored["false_accepts_per_hour"],
        "false_accepts_in_positive_stream": stored["false_accepts_in_positive_stream"],
        "threshold": "stored per-label thresholds (see per_label[*].threshold), int8 score units",
        "hours_negative": negative.seconds / 3600,
        "hours_positive_stream": positive.seconds / 3600,
        "n_positive": stored["n_positive"],
        "per_label": stored["per_label"],
        "curve": [[row["false_accepts_per_hour"], row["false_reject_rate"], row["threshold"]] for row in curve],
        "operating_point": None if point is None else {
            "target_false_accepts_per_hour": args.target_fa_per_hour, "threshold": point["threshold"],
            "false_reject_rate": point["false_reject_rate"], "false_accepts_per_hour": point["false_accepts_per_hour"]},
        "settings": {"seed": args.seed, "gap_s": list(args.gap_s), "snr_db": args.snr_db, "clean": args.clean,
                     "tolerance_s": args.tolerance_s, "noise_snr_db": args.noise_snr_db if args.noise else None,
                     "positives": str(args.positives), "negatives": [str(p) for p in args.negatives],
                     "bad_positive_files": [b._asdict() for b in bad]},
    }
    for label, row in result["per_label"].items():
        row["curve"] = [[r["per_label"][label]["false_accepts_per_hour"], r["per_label"][label]["false_reject_rate"],
                         r["threshold"]] for r in curve]
    print(f"at the stored thresholds: FRR {stored['false_reject_rate']:.3f} over {stored['n_positive']} positives, "
          f"{stored['false_accepts']} false accepts in {negative.seconds / 3600:.3f} h = "
          f"{stored['false_accepts_per_hour']:.2f} FA/h ({stored['false_accepts_in_positive_stream']} wrong "
          f"detections in the positive stream)")
    print(f"{'label':<10} {'n':>5} {'FRR':>6} {'FA/h':>7} {'thr':>5}")
    for label, row in stored["per_label"].items():
        frr = "-" if row["false_reject_rate"] is None else f"{row['false_reject_rate']:.3f}"
        print(f"{label:<10} {row['n_positive']:>5} {frr:>6} {row['false_accepts_per_hour']:>7.2f} "
              f"{row['threshold']:>5}")
    if point is None:
        print(f"no threshold of the sweep reaches {args.target_fa_per_hour:g} FA/h")
    else:
        print(f"operating point at <= {args.target_fa_per_hour:g} FA/h: common threshold {point['threshold']} "
              f"(p {(point['threshold'] + 128) / 256:.2f}): FRR {point['false_reject_rate']:.3f}, "
              f"{point['false_accepts_per_hour']:.2f} FA/h")
    if args.json:
        write_json_atomic(args.json, result)
        print(f"wrote {args.json}")
    if args.plot:
        curves = {"overall": [(r["false_accepts_per_hour"], r["false_reject_rate"]) for r in curve]}
        for label, row in result["per_label"].items():
            if row["n_positive"]:
                curves[label] = [(fa, frr) for fa, frr, _ in row["curve"]]
        plot_det(curves, args.plot, title=f"DET: {len(clips)} positives, {negative.seconds / 3600:.2f} h negatives",
                 target_fa_per_hour=args.target_fa_per_hour)
        print(f"wrote {args.plot}")
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "eval-stream", help="false reject rate and false accepts per hour on long test streams",
        description="Place positive clips at random times (seeded) into negative audio, stream it through the "
                    "device path once, replay the integer detector over a sweep of thresholds and report FRR "
                    "and FA/h (negative-only audio) per keyword and overall, at the model's stored detector "
                    "config and at a target FA/h.")
    parser.add_argument("model", metavar="MODEL", help="run folder, .tflite file or shipped model name")
    parser.add_argument("--positives", required=True, metavar="DIR",
                        help="<DIR>/<label>/* keyword clips (or one folder of clips with --keyword)")
    parser.add_argument("--negatives", required=True, action="append", metavar="PATH",
                        help="negative audio: folders (searched recursively) or files; repeatable")
    parser.add_argument("--keyword", metavar="WORD", help="every file of --positives is this keyword")
    parser.add_argument("--noise", action="append", metavar="PATH", help="noise mixed into the negative audio")
    parser.add_argument("--noise-snr-db", type=float, default=10.0, metavar="DB",
                        help="negative audio to --noise ratio (default 10 dB)")
    parser.add_argument("--snr-db", type=float, default=None, metavar="DB",
                        help="scale each positive to this SNR against the background under it "
                             "(default: recorded level, mixed into the background)")
    parser.add_argument("--clean", action="store_true",
                        help="each positive replaces the background under it (the clip alone, as recorded)")
    parser.add_argument("--target-fa-per-hour", type=float, default=0.5, metavar="X")
    parser.add_argument("--tolerance-s", type=float, default=1.0, metavar="S",
                        help="a hit may fire up to S seconds after the clip ends (default 1)")
    parser.add_argument("--gap-s", type=float, nargs=2, default=[3.0, 6.0], metavar=("MIN", "MAX"),
                        help="random gap before each positive (default 3 6)")
    parser.add_argument("--limit", type=int, default=None, metavar="N", help="at most N positives, evenly spread")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--detector", metavar="FILE.json", help="detector settings instead of the model's")
    parser.add_argument("--json", metavar="OUT")
    parser.add_argument("--plot", metavar="OUT.png", help="DET curve (FRR vs FA/h, log x)")
    parser.set_defaults(func=run)
