"""``kws synth``: synthetic keyword clips from the offline TTS voices installed here.

Examples::

    kws synth --words yes no --per-word 50 --out synth/
    kws synth --unknown 300 --out synth/                  # confusables + common words
    kws synth --words yes --per-word 20 --engines espeak,flite --jobs 2 --out synth/

Clips land in ``OUT/<label>/<hash>.wav`` (1 s, 16 kHz, int16) with
``OUT/manifest.jsonl``; see :mod:`kws.datasets.synth` for what is done to each clip.
"""

from __future__ import annotations

import argparse
import sys
import warnings

from kws.errors import DataError


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``synth`` subcommand to the ``kws`` parser."""
    from kws.datasets.synth import ENGINE_NAMES, VOICE_DRAWS

    parser = subparsers.add_parser(
        "synth",
        help="generate 1 s keyword clips with offline TTS voices (espeak-ng, flite, piper, kokoro)",
        description=(
            "Synthesise 1 s, 16 kHz clips of words or phrases with every installed offline TTS voice "
            "(espeak-ng accents and variants, flite voices, piper, Kokoro-82M voices and mixes), write them to "
            "OUT/<label>/<hash>.wav and list them in OUT/manifest.jsonl. Existing clips are reused."
        ),
    )
    parser.add_argument(
        "--words", nargs="+", default=[], metavar="WORD", help="words or phrases to say; each is its own label"
    )
    parser.add_argument("--per-word", type=int, default=50, metavar="N", help="clips per word (default 50)")
    parser.add_argument(
        "--unknown",
        type=int,
        default=0,
        metavar="N",
        help="also make N '_unknown_' clips of confusable and common words (never a keyword)",
    )
    parser.add_argument(
        "--keywords",
        nargs="+",
        default=None,
        metavar="WORD",
        help="keywords kept out of --unknown (default: --words, or the ten Speech Commands command words)",
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0); same seed, same files")
    parser.add_argument(
        "--engines",
        default=",".join(ENGINE_NAMES),
        metavar="LIST",
        help=f"comma-separated TTS engines to use (default {','.join(ENGINE_NAMES)}); missing ones are skipped",
    )
    parser.add_argument("--voice-draw", choices=VOICE_DRAWS, default="random",
                        help="random: an engine by weight, then any of its voice settings (default); even: every "
                             "setting of an engine before any repeats, the same voice for clip i of every word")
    parser.add_argument("--jobs", type=int, default=2, metavar="N", help="worker processes (default 2)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``kws synth``; returns the exit code."""
    from kws.datasets.synth import SynthWarning, run_synthesis
    from kws.datasets.words import KEYWORDS, UNKNOWN_LABEL, unknown_words

    if args.per_word < 0 or args.unknown < 0:
        raise DataError("--per-word and --unknown must be >= 0")
    if not args.words and args.unknown == 0:
        raise DataError("nothing to synthesise: give --words WORD ... and/or --unknown N")
    words = {word.strip(): word.strip() for word in args.words if word.strip()}
    if UNKNOWN_LABEL in words:
        raise DataError(f"{UNKNOWN_LABEL} is a reserved label: use --unknown N")
    counts = {label: args.per_word for label in words}
    if args.unknown:
        keywords = args.keywords or list(words) or list(KEYWORDS)
        words[UNKNOWN_LABEL] = unknown_words(keywords, args.seed)
        counts[UNKNOWN_LABEL] = args.unknown
    engines = [name for name in args.engines.split(",") if name.strip()]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SynthWarning)  # printed below from the report
        report = run_synthesis(
            words, counts, args.out, seed=args.seed, engines=engines, jobs=args.jobs, voice_draw=args.voice_draw,
            progress=not args.no_progress,
        )
    for message in report.skipped_engines:
        print(f"kws synth: warning: {message}", file=sys.stderr)
    for failure in report.failures:
        print(f"kws synth: warning: {failure.message()}", file=sys.stderr)
    for line in report.summary_lines():
        print(line)
    requested = sum(counts.values())
    return 1 if requested and not report.records else 0
