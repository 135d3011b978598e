"""``kws train-wakeword``: a wake-phrase detector from synthetic speech, selected and calibrated on real audio."""

from __future__ import annotations

import argparse

from kws.errors import KwsError


def run(args: argparse.Namespace) -> int:
    import dataclasses
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        from kws.training.wakeword import WakewordConfig, check_phrase, load_wakeword_config, run_wakeword
    except ImportError as exc:
        raise KwsError(f"training needs TensorFlow: pip install -e '.[train]' ({exc})") from exc
    if args.resume and args.force:
        raise KwsError("--resume and --force exclude each other")
    check_phrase(args.phrase)  # a bad phrase fails before TensorFlow or any data is touched
    config = load_wakeword_config(args.config) if args.config else WakewordConfig()
    if args.epochs is not None:
        config = dataclasses.replace(config, train=dataclasses.replace(config.train, epochs=args.epochs))
    metrics = run_wakeword(args.phrase, config, args.out, force=args.force, resume=args.resume)
    report = metrics["report"]
    print(f"run folder: {args.out}")
    print(f"window {metrics['clip_duration_ms']} ms; int8 weights {metrics['int8_weight_bytes']:,} bytes; kept epoch "
          f"{metrics['best_epoch']} of {metrics['epochs']}; threshold p {metrics['threshold_probability']} "
          f"(calibrated for {config.target_fa_per_hour} FA/h on {metrics['calibration_hours']} h)")
    print(f"held-out synthetic voices at that threshold: FRR {report['ambience_10db']['false_reject_rate']} in "
          f"ambience at 10 dB, {report['speech']['false_reject_rate']} in speech; "
          f"{report['ambience_10db']['false_accepts_per_hour']} FA/h on {report['hours_negative']} h of report audio")
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "train-wakeword", help="train a wake-phrase detector from TTS speech (TensorFlow) into a run folder",
        description="Synthesise the phrase with every kws synth voice, derive confusable phrases, train a small "
                    "int8 model against them, real words and real continuous speech, keep the checkpoint with the "
                    "fewest false accepts per hour on held-out speech, calibrate the detector threshold and write "
                    "a run folder that kws detect / listen / eval-stream / export take.")
    parser.add_argument("phrase", metavar="PHRASE", help='the wake phrase, e.g. "alexa" or "hey jarvis"')
    parser.add_argument("--out", required=True, help="run folder to write")
    parser.add_argument("--config", help="TOML file of WakewordConfig settings (e.g. training/configs/wakeword.toml)")
    parser.add_argument("--epochs", type=int, help="override [train] epochs")
    parser.add_argument("--force", action="store_true", help="overwrite an existing run folder")
    parser.add_argument("--resume", action="store_true", help="continue an interrupted run after its last epoch")
    parser.set_defaults(func=run)
