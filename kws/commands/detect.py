"""``kws detect``: find keywords in audio files of any length, streamed in blocks like a device would."""

from __future__ import annotations

import argparse
import time


def detector_for(args: argparse.Namespace, model):
    """The model's stored detector config, or ``--detector FILE``, with ``--threshold`` overrides."""
    from kws.detector import model_detector_config, parse_thresholds, read_detector_config

    config = read_detector_config(args.detector) if args.detector else model_detector_config(model.source)
    overrides = parse_thresholds(args.threshold or [], model.labels, scale=model.output_scale,
                                 zero_point=model.output_zero_point)
    return config.with_thresholds(overrides) if overrides else config


def add_detector_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--threshold", action="append", metavar="LABEL=P",
                        help="threshold of LABEL as a probability (converted to int8 units); repeatable")
    parser.add_argument("--detector", metavar="FILE.json",
                        help="detector settings to use instead of the model's stored detector.json")
    parser.add_argument("--reference-frontend", action="store_true",
                        help="use the numpy integer front end instead of the (bit-identical) native C one")
    parser.add_argument("--reference-model", action="store_true",
                        help="score with the TFLite Micro interpreter instead of the (bit-identical) native C model")


def run(args: argparse.Namespace) -> int:
    import sys

    from kws.audio import iter_audio_blocks
    from kws.errors import AudioError, ConfigError
    from kws.fileio import write_json_atomic
    from kws.frontend.fidelity import one_core
    from kws.frontend.native import streaming_frontend
    from kws.model import KwsModel
    from kws.streaming import Stream

    if args.block_s <= 0:
        raise ConfigError(f"--block-s {args.block_s}: must be > 0")
    from kws.model_native import fastest_model

    model, model_note = fastest_model(KwsModel.load(args.model), native=not args.reference_model)
    config = detector_for(args, model)
    frontend, note = streaming_frontend(model.frontend, native=not args.reference_frontend)
    note = f"{note}; {model_note}"
    stream = Stream(model, config, frontend=frontend)
    rate = model.frontend.sample_rate_hz
    block = max(1, int(args.block_s * rate))
    print(f"model {model.source}: detector {config.config_hash()} (model every {config.inference_period_ms} ms); "
          f"{note}")
    results, failures = [], 0
    audio_s = busy_s = model_s = 0.0
    with one_core() as pinning:
        for path in args.files:
            stream.reset()
            n_samples = 0
            start = time.perf_counter()
            try:
                for pcm in iter_audio_blocks(path, rate, block):
                    n_samples += pcm.size
                    for d in stream.process(pcm):
                        results.append({"file": str(path), "label": d.label, "time_s": round(d.time_s, 4),
                                        "score": d.score})
                        print(f"{path}: {d.time_s:9.2f} s  {d.label:<10} score {d.score:4d} "
                              f"(p {float(model.probabilities([d.score])[0]):.2f})", flush=True)
            except AudioError as exc:
                print(f"kws detect: error: {exc}", file=sys.stderr)
                failures += 1
                continue
            busy_s += time.perf_counter() - start
            model_s += stream.model_seconds
            audio_s += n_samples / rate
            if n_samples < model.frontend.clip_samples:
                print(f"{path}: note: {n_samples / rate * 1000:.0f} ms of audio is shorter than one "
                      f"{model.frontend.clip_duration_ms} ms window; nothing to detect")
    found = len(results)
    speed = audio_s / busy_s if busy_s > 0 else float("inf")
    print(f"{found} detection(s) in {len(args.files) - failures} file(s), {audio_s:.1f} s of audio; "
          f"throughput {speed:.0f}x real time on one core ({pinning}); "
          f"{100 * model_s / busy_s if busy_s > 0 else 0:.0f}% of the time in the model")
    if args.json:
        write_json_atomic(args.json, results)
        print(f"wrote {args.json}")
    return 1 if failures else 0


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "detect", help="find keywords in audio files of any length",
        description="Stream audio files through the device's path (integer front end every hop, int8 model every "
                    "inference period, integer detector) in bounded memory and print the detections with the time "
                    "they fire. Uses the model's detector.json (defaults when it has none).")
    parser.add_argument("model", metavar="MODEL", help="run folder, .tflite file or shipped model name")
    parser.add_argument("files", nargs="+", metavar="FILE", help="audio files (WAV/FLAC/OGG, any rate/channels)")
    parser.add_argument("--json", metavar="OUT", help='write [{"file", "label", "time_s", "score"}, ...]')
    add_detector_options(parser)
    parser.add_argument("--block-s", type=float, default=10.0, metavar="S",
                        help="seconds of audio decoded at a time (default 10)")
    parser.set_defaults(func=run)
