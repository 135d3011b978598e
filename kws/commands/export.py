"""``kws export``: C sources of a model for a microcontroller, built, verified and measured."""

from __future__ import annotations

import argparse
import time
from pathlib import Path


def run(args: argparse.Namespace) -> int:
    from kws.datasets.paths import data_root
    from kws.errors import ConfigError
    from kws.firmware_export.export import export_model

    if args.then:
        return run_two_stage(args)
    if args.clips is not None and args.clips < 1:
        raise ConfigError(f"--clips {args.clips}: must be >= 1")
    data_dir = args.data
    if data_dir is None and (args.verify or args.target != "host"):  # real speech to verify and to measure on
        candidate = data_root() / "speech_commands_v0.02_test"
        data_dir = candidate if candidate.is_dir() else None
        if data_dir is None:
            print(f"kws export: no real clips at {candidate} (set KWS_DATA or --data); verifying and measuring on "
                  f"generated and golden inputs only")
    start = time.perf_counter()
    report = export_model(args.model, args.out, target=args.target, verify_data=args.verify, force=args.force,
                          data_dir=Path(data_dir) if data_dir else None, clip_limit=args.clips,
                          inference_period_ms=args.inference_period_ms,
                          progress=lambda message: print(f"  {message}", flush=True))
    print(f"wrote {args.out}: {report.macs_per_inference:,} MACs per inference, "
          f"{report.arena_bytes:,}-byte arena, model every {report.inference_period_ms} ms")
    for check in report.verification:
        print(f"  verified {check['target']:<22} {check['check']:<7} {check['items']:>8,} compared, 0 mismatches")
    m4 = report.cortex_m4
    if m4:
        print(f"  Cortex-M4: flash {m4['flash_bytes']:,} B, RAM {m4['ram_bytes']:,} B "
              f"({m4['ram_static_bytes']:,} static + {m4['stack_bytes']:,} stack), "
              f"{m4['instructions_per_frame']:,} instr/frame, {m4['instructions_per_inference']:,} instr/inference, "
              f"{m4['instructions_per_second_of_audio'] / 1e6:.2f} M instr per second of audio")
    print(f"done in {time.perf_counter() - start:.1f} s")
    return 0


def run_two_stage(args: argparse.Namespace) -> int:
    from kws.errors import ConfigError
    from kws.firmware_export.two_stage import export_two_stage

    if args.clips is not None or args.inference_period_ms is not None or args.data is not None:
        raise ConfigError("--then exports the two models with their own detector settings and checks them on the "
                          "bundled two-stage stream: --clips, --data and --inference-period-ms do not apply "
                          "(verify each model alone with kws export MODEL --verify)")
    start = time.perf_counter()
    report = export_two_stage(args.model, args.then, args.out, target=args.target, force=args.force,
                              listen_s=args.listen_s, then_probability=args.then_threshold,
                              progress=lambda message: print(f"  {message}", flush=True))
    print(f"wrote {args.out}: {Path(report['wake_model']).parent.name} gates {Path(report['command_model']).parent.name} "
          f"for {report['listen_s']:g} s (commands at p >= {report['then_probability']:g})")
    for name in report["verified"]:
        print(f"  verified {name:<32} {report['check_lines']:,} lines ({report['check_events']} events, "
              f"{report['check_stream_seconds']:g} s of audio), 0 mismatches")
    m4 = report.get("cortex_m4")
    if m4:
        print(f"  Cortex-M4: flash {m4['flash_bytes']:,} B, RAM {m4['ram_bytes']:,} B "
              f"({m4['ram_static_bytes']:,} static + {m4['stack_bytes']:,} stack), "
              f"{m4['instructions_per_second_of_audio'] / 1e6:.2f} M instr per second of audio")
    print(f"done in {time.perf_counter() - start:.1f} s")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export", help="emit C (front end + int8 model + API) for a microcontroller, build, verify, measure",
        description="Write self-contained C99 for MODEL into OUT (generated from the model's front-end config and "
                    ".tflite), build it for the host and/or a Cortex-M4 (QEMU mps2-an386), and with --verify prove "
                    "it computes exactly what Python computes. OUT is written whole or not at all.")
    parser.add_argument("model", help="run folder, .tflite file or shipped model name (e.g. commands)")
    parser.add_argument("--out", required=True, help="output folder (refused if it exists, unless --force)")
    parser.add_argument("--target", choices=("host", "cortex-m4", "all"), default="host",
                        help="what to build: host gcc, Cortex-M4 (arm-none-eabi-gcc + QEMU), or both")
    parser.add_argument("--verify", action="store_true",
                        help="compare features, scores and stream decisions of the C builds with Python: "
                             "golden vectors, adversarial signals and every clip of --data")
    parser.add_argument("--data", help="<label>/* folder of real clips for --verify "
                                        "(default: $KWS_DATA/speech_commands_v0.02_test)")
    parser.add_argument("--clips", type=int, default=None, help="verify with at most this many real clips (default: all)")
    parser.add_argument("--inference-period-ms", type=int, default=None,
                        help="how often kws_process runs the model, a multiple of the hop "
                             "(default: the model's detector.json)")
    parser.add_argument("--force", action="store_true", help="replace OUT if it exists")
    parser.add_argument("--then", metavar="COMMAND_MODEL",
                        help="two stages in one build: MODEL (a wake word) opens a window in which a command of "
                             "COMMAND_MODEL is taken (kws_two_stage.h; one shared front end); checked against "
                             "Python on a bundled stream")
    from kws.two_stage import DEFAULT_GATED_PROBABILITY, DEFAULT_LISTEN_S

    parser.add_argument("--listen-s", type=float, default=DEFAULT_LISTEN_S,
                        help=f"with --then: seconds a wake detection keeps the command window open (default {DEFAULT_LISTEN_S:g})")
    parser.add_argument("--then-threshold", type=float, default=DEFAULT_GATED_PROBABILITY,
                        help=f"with --then: probability a command needs inside the window "
                             f"(default {DEFAULT_GATED_PROBABILITY:g})")
    parser.set_defaults(func=run)
