"""``kws mine-words``: real words cut out of continuous speech by an offline recogniser.

Examples::

    kws mine-words speech/speechocean762 --out mined/            # under $KWS_DATA, or any path
    kws mine-words my_recordings/ --out mined/ --keywords yes no --check-with commands

Writes ``OUT/<word>/<speaker>_nohash_<n>.wav`` (a label-folder dataset: words that sound like a keyword
go to the keyword's folder) and ``OUT/mined.json``; see :mod:`kws.datasets.word_mining`.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``mine-words`` subcommand to the ``kws`` parser."""
    parser = subparsers.add_parser(
        "mine-words",
        help="cut the words of continuous speech into labelled clips (offline recogniser: pocketsphinx)",
        description=(
            "Recognise every utterance of SPEECH (one sub-folder per speaker, or one speaker's folder) with "
            "PocketSphinx, and write each word of 0.25-0.9 s as OUT/<word>/<speaker>_nohash_<n>.wav, words that "
            "sound like a keyword in the keyword's folder. With --check-with MODEL, report how often that model "
            "hears the same keyword in the keyword clips (agreement of two independent recognisers)."
        ),
    )
    parser.add_argument("speech", metavar="SPEECH", help="folder of continuous speech (absolute, or under $KWS_DATA)")
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder (written whole, atomically)")
    parser.add_argument("--keywords", nargs="+", default=None, metavar="WORD",
                        help="keywords (default: the ten Speech Commands command words)")
    parser.add_argument("--check-with", metavar="MODEL", default=None,
                        help="a classifier (shipped name or run folder) to cross-check the keyword clips with")
    parser.add_argument("--jobs", type=int, default=2, metavar="N", help="worker processes (default 2)")
    parser.add_argument("--force", action="store_true", help="replace an existing OUT")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``kws mine-words``; returns the exit code."""
    from kws.datasets.paths import data_root
    from kws.datasets.word_mining import keyword_agreement, mine_words
    from kws.datasets.words import KEYWORDS

    speech = Path(args.speech)
    if not speech.is_absolute() and not speech.exists():
        speech = data_root() / speech
    keywords = args.keywords or list(KEYWORDS)
    report = mine_words(speech, args.out, keywords, jobs=args.jobs, progress=not args.no_progress,
                        overwrite=args.force)
    for path, reason in report.bad_files:
        print(f"kws mine-words: skipped {path}: {reason}")
    found = ", ".join(f"{k} {n}" for k, n in report.keyword_clips.items() if n) or "none"
    print(f"{report.utterances} utterances, {report.words_recognised} words recognised, {report.clips} clips "
          f"written to {report.out_dir}: {report.unknown_clips} other words, keyword sound-alikes: {found}")
    if args.check_with:
        agreement = keyword_agreement(report.out_dir, args.check_with)
        for keyword, (agreed, total) in agreement.items():
            print(f"  {keyword}: {args.check_with} hears {keyword} in {agreed} of {total} clips")
        agreed = sum(a for a, _ in agreement.values())
        total = sum(t for _, t in agreement.values())
        print(f"keyword clips confirmed by {args.check_with}: {agreed} of {total}")
    return 0 if report.clips else 1
