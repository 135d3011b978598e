"""Real words mined from continuous speech with an offline recogniser.

The shared continuous speech (e.g. ``speech/speechocean762``: read sentences of 40 speakers, no
transcripts) holds thousands of real words from voices the ``commands`` model never heard. Each
utterance is recognised by CMU PocketSphinx (``pip install pocketsphinx``: its US English acoustic
model, dictionary and language model ship inside the wheel, so it runs offline), which gives every
word a start and end time. Each word long enough to be a clip is cut out with a little of the audio
around it and written as ``OUT/<word>/<speaker>_nohash_<n>.wav``, the Speech Commands layout, so the
result is an ordinary label-folder dataset: keyword folders keep their label, everything else is
``_unknown_``, and speaker splits work as for any real folder.

The recogniser is wrong often on accented speech, so:

* a word that *sounds* like a keyword (the keyword itself, or a homophone in the recogniser's
  dictionary such as "know" for "no") goes to the keyword's folder, never to ``_unknown_``;
* keyword examples are candidates only: :func:`keyword_agreement` measures how often a second,
  independent recogniser (a trained ``commands`` model) hears the same keyword, and training uses
  them only when asked (``TrainConfig.mined_keywords``).

``OUT/mined.json`` lists every clip (source file, times, recognised word) and the counts.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from kws.errors import DataError

MINING_VERSION = 1
"""Bumped when the cutting rule changes, so cached mined folders are redone."""
MANIFEST = "mined.json"
FRAME_S = 0.01
"""PocketSphinx reports times in 10 ms frames."""
NOT_WORDS = re.compile(r"^(<.*>|\[.*\])$")
"""Sentence marks, silence and filler tokens (``<s>``, ``<sil>``, ``[NOISE]``...)."""


@dataclasses.dataclass(frozen=True)
class CutRule:
    """Which recognised words become clips, and how they are cut."""

    min_word_s: float = 0.25
    """Shorter words (mostly function words: "a", "the") are skipped: not a clip's worth of speech."""
    max_word_s: float = 0.9
    pad_s: float = 0.04
    """Audio kept either side of the recogniser's boundaries (they are only 10 ms-accurate)."""
    fade_s: float = 0.01
    """Raised-cosine fade at both ends, so the cut makes no click."""
    min_peak_dbfs: float = -40.0
    """Quieter cuts are skipped (the recogniser's boundaries wander in near-silence)."""


@dataclasses.dataclass(frozen=True)
class RecognisedWord:
    word: str
    start_s: float
    end_s: float


@dataclasses.dataclass
class MiningReport:
    out_dir: Path
    utterances: int
    words_recognised: int
    clips: int
    keyword_clips: dict[str, int]
    unknown_clips: int
    bad_files: list[tuple[str, str]]


def _require_pocketsphinx():
    try:
        import pocketsphinx
    except ImportError as exc:
        raise DataError("mining words needs the offline recogniser: pip install pocketsphinx") from exc
    return pocketsphinx


def base_word(token: str) -> str:
    """``"climate(2)"`` -> ``"climate"`` (PocketSphinx marks alternative pronunciations)."""
    return re.sub(r"\(\d+\)$", "", token).lower()


def dictionary_path() -> Path:
    pocketsphinx = _require_pocketsphinx()
    return Path(pocketsphinx.get_model_path()) / "en-us" / "cmudict-en-us.dict"


def read_pronunciations(path: str | os.PathLike) -> dict[str, set[str]]:
    """``word -> {"N OW", ...}`` from a CMU-style dictionary (one ``word[(n)] PHONES`` per line)."""
    pronunciations: dict[str, set[str]] = {}
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            token, _, phones = line.strip().partition(" ")
            if phones:
                pronunciations.setdefault(base_word(token), set()).add(phones.strip())
    return pronunciations


def keyword_sound_alikes(keywords: Iterable[str], pronunciations: dict[str, set[str]]) -> dict[str, str]:
    """``word -> keyword`` for every keyword and every dictionary word pronounced exactly like one."""
    by_phones: dict[str, str] = {}
    for keyword in keywords:
        for phones in pronunciations.get(keyword.lower(), ()):
            by_phones[phones] = keyword
    alikes = {keyword.lower(): keyword for keyword in keywords}
    for word, phone_set in pronunciations.items():
        for phones in phone_set:
            if phones in by_phones:
                alikes.setdefault(word, by_phones[phones])
    return alikes


_DECODER = None


def _init_recogniser() -> None:
    global _DECODER
    from pocketsphinx import Decoder

    _DECODER = Decoder(samprate=16000, loglevel="FATAL")


def recognise(pcm: np.ndarray) -> list[RecognisedWord]:
    """Words (no fillers) of one 16 kHz int16 utterance, with their times."""
    if _DECODER is None:
        _init_recogniser()
    decoder = _DECODER
    decoder.start_utt()
    decoder.process_raw(np.ascontiguousarray(pcm, dtype=np.int16).tobytes(), full_utt=True)
    decoder.end_utt()
    return [RecognisedWord(base_word(s.word), s.start_frame * FRAME_S, (s.end_frame + 1) * FRAME_S)
            for s in decoder.seg() if not NOT_WORDS.match(s.word)]


def cut_word(pcm: np.ndarray, word: RecognisedWord, rule: CutRule, rate_hz: int = 16000) -> np.ndarray | None:
    """The word's audio with ``pad_s`` either side and faded ends, or None when the rule skips it."""
    duration_s = word.end_s - word.start_s
    if not rule.min_word_s <= duration_s <= rule.max_word_s:
        return None
    start = max(0, int(round((word.start_s - rule.pad_s) * rate_hz)))
    end = min(pcm.size, int(round((word.end_s + rule.pad_s) * rate_hz)))
    clip = pcm[start:end].astype(np.float64)
    if clip.size == 0 or 20 * np.log10(max(np.max(np.abs(clip)), 1.0) / 32768.0) < rule.min_peak_dbfs:
        return None
    fade = min(int(rule.fade_s * rate_hz), clip.size // 2)
    if fade:
        ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(fade) / fade)
        clip[:fade] *= ramp
        clip[-fade:] *= ramp[::-1]
    return np.clip(np.round(clip), -32768, 32767).astype(np.int16)


def _mine_file(path: str, rule: CutRule) -> tuple[str, list[tuple[RecognisedWord, np.ndarray | None]] | None, str | None]:
    """Worker: every recognised word of one file with its cut clip (None when the rule skips it), or the
    reason the file could not be read. The file is decoded once, here."""
    from kws.audio import read_audio
    from kws.errors import AudioError

    try:
        pcm = read_audio(path, 16000)
    except AudioError as exc:
        return path, None, str(exc)
    return path, [(word, cut_word(pcm, word, rule)) for word in recognise(pcm)], None


def speech_files(speech_root: Path) -> list[tuple[str, str]]:
    """``(speaker, path)`` of every audio file: one sub-folder per speaker, or the root as one speaker."""
    from kws.audio import list_audio_files

    folders = sorted(p for p in speech_root.iterdir() if p.is_dir() and not p.name.startswith("."))
    pairs = [(folder.name, str(f)) for folder in folders or [speech_root] for f in list_audio_files(folder)]
    if not pairs:
        raise DataError(f"{speech_root}: no audio files to mine words from")
    return pairs


def folder_name(word: str) -> str:
    """A recognised word as a folder name (letters, digits and apostrophes only)."""
    return re.sub(r"[^a-z0-9']", "_", word)


def mine_words(speech_root: str | os.PathLike, out_dir: str | os.PathLike, keywords: Sequence[str], *,
               rule: CutRule = CutRule(), jobs: int = 2, progress: bool = True,
               overwrite: bool = False) -> MiningReport:
    """Recognise every utterance under ``speech_root`` and write its words as label folders in ``out_dir``
    (atomically: the folder appears whole or not at all)."""
    from tqdm import tqdm

    from kws.audio import write_wav
    from kws.fileio import atomic_dir, write_json_atomic

    _require_pocketsphinx()
    speech_root = Path(speech_root)
    if not speech_root.is_dir():
        raise DataError(f"{speech_root}: speech folder not found (set KWS_DATA or give a path)")
    if Path(out_dir).exists() and not overwrite:  # say so before minutes of recognition, not after
        raise DataError(f"{out_dir} already exists (use --force to replace it)")
    pairs = speech_files(speech_root)
    speaker_of = {path: speaker for speaker, path in pairs}
    sound_alikes = keyword_sound_alikes(keywords, read_pronunciations(dictionary_path()))
    paths = [path for _, path in pairs]
    if jobs > 1 and len(paths) > 1:
        with ProcessPoolExecutor(jobs, initializer=_init_recogniser) as pool:
            results = list(tqdm(pool.map(_mine_file, paths, [rule] * len(paths), chunksize=4), total=len(paths),
                                desc="recognising words", unit="utt", disable=not progress))
    else:
        results = [_mine_file(p, rule) for p in tqdm(paths, desc="recognising words", unit="utt",
                                                     disable=not progress)]
    entries, bad, keyword_counts, n_words = [], [], {k: 0 for k in keywords}, 0
    per_speaker_count: dict[str, int] = {}
    with atomic_dir(out_dir, overwrite=overwrite) as tmp:
        for path, words, error in results:
            if error is not None:
                bad.append((path, error))
                continue
            speaker = speaker_of[path]
            for word, clip in words:
                n_words += 1
                if clip is None:
                    continue
                keyword = sound_alikes.get(word.word)
                folder = keyword if keyword is not None else folder_name(word.word)
                n = per_speaker_count[speaker] = per_speaker_count.get(speaker, -1) + 1
                name = f"{folder}/{speaker}_nohash_{n}.wav"
                write_wav(tmp / name, clip, 16000)
                entries.append({"clip": name, "source": os.path.relpath(path, speech_root), "word": word.word,
                                "start_s": round(word.start_s, 2), "end_s": round(word.end_s, 2),
                                "keyword": keyword})
                if keyword is not None:
                    keyword_counts[keyword] += 1
        summary = {"version": MINING_VERSION, "speech_root": str(speech_root), "keywords": list(keywords),
                   "rule": dataclasses.asdict(rule), "utterances": len(paths) - len(bad),
                   "words_recognised": n_words, "keyword_clips": keyword_counts,
                   "bad_files": [list(b) for b in bad], "clips": entries}
        write_json_atomic(tmp / MANIFEST, summary)
    n_keywords = sum(keyword_counts.values())
    return MiningReport(out_dir=Path(out_dir), utterances=len(paths) - len(bad), words_recognised=n_words,
                        clips=len(entries), keyword_clips=keyword_counts, unknown_clips=len(entries) - n_keywords,
                        bad_files=bad)


def mining_key(speech_root: Path, keywords: Sequence[str], rule: CutRule) -> str:
    """Cache key of a mined folder: the files mined (names and sizes), keywords, rule and version."""
    listing = sorted((os.path.relpath(p, speech_root), os.path.getsize(p)) for _, p in speech_files(speech_root))
    text = json.dumps([MINING_VERSION, listing, list(keywords), dataclasses.asdict(rule)])
    return hashlib.sha1(text.encode()).hexdigest()[:12]


def mined_folder(speech_root: str | os.PathLike, cache_dir: str | os.PathLike, keywords: Sequence[str], *,
                 rule: CutRule = CutRule(), jobs: int = 2, log=print) -> Path:
    """The mined label folders of ``speech_root`` under ``cache_dir`` (mined on first use, then reused)."""
    speech_root = Path(speech_root)
    if not speech_root.is_dir():
        raise DataError(f"{speech_root}: speech folder not found (set KWS_DATA or mined_speech)")
    out = Path(cache_dir) / "mined_words" / f"{speech_root.name}-{mining_key(speech_root, keywords, rule)}"
    if not (out / MANIFEST).is_file():
        report = mine_words(speech_root, out, keywords, rule=rule, jobs=jobs, overwrite=out.exists())
        log(f"mined {report.clips} word clips ({report.unknown_clips} other words, keywords "
            f"{sum(report.keyword_clips.values())}) from {report.utterances} utterances of {speech_root}")
    return out


def keyword_agreement(mined_dir: str | os.PathLike, model_source: str) -> dict[str, tuple[int, int]]:
    """``keyword -> (clips the model also calls that keyword, clips)`` over the mined keyword folders: how
    often a second, independent recogniser agrees with the first (a lower bound on their precision when the
    model is good; no one listened)."""
    from kws.evaluation import evaluate_folder
    from kws.model import load_model

    model = load_model(model_source)
    present = [k for k in model.labels if (Path(mined_dir) / k).is_dir() and any((Path(mined_dir) / k).iterdir())]
    if not present:
        return {}
    result = evaluate_folder(model, mined_dir)
    index = {label: i for i, label in enumerate(result.labels)}
    return {k: (int(result.confusion[index[k], index[k]]), int(result.confusion[index[k]].sum())) for k in present}
