"""The ``kws`` command line: one subcommand per module in :mod:`kws.commands`.

Each command module defines ``register(subparsers)`` which adds its parser and
sets ``func`` to a callable taking the parsed arguments and returning an exit
code. Modules are imported here, but heavy libraries (TensorFlow, librosa) are
imported only inside the command functions, so ``kws --help`` stays fast and
the runtime never needs TensorFlow.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from kws import __version__
from kws.errors import KwsError

#: Command modules under kws.commands, in the order ``kws --help`` lists them.
COMMAND_MODULES = ("features", "synth", "mine_words", "data", "train", "train_wakeword", "eval", "export", "bench", "detect", "listen",
                   "eval_stream", "calibrate")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kws", description="Keyword spotting for microcontrollers.")
    parser.add_argument("--version", action="version", version=f"kws {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"kws.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"kws.commands.{name}":
                continue  # command not built yet: absent from --help, never faked
            raise
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KwsError as exc:
        print(f"kws {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"kws {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
