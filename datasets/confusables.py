"""Confusable phrases derived from a wake phrase: hard negatives for its ``_unknown_`` class.

:func:`confusable_phrases` turns a phrase into sound-alikes by rules on its spelling, checked
against its pronunciation (IPA from ``espeak-ng --ipa``):

==========  ==============================================================  ======================
kind        rule                                                            "computer" gives
==========  ==============================================================  ======================
partial     leading / trailing syllables of a word, sub-sequences of words  compu, puter, ter
split       a word cut in two at a syllable boundary                        com puter
ending      the last syllable's rhyme replaced (stem + common endings)      compute, computing
onset       the first consonant cluster replaced (rhymes)                   bomputer, somputer
cluster     one consonant of a cluster dropped (short vowel: doubled)       comuter, commuter
consonant   one consonant swapped for its voiced/voiceless or nasal twin    combuter, compuder
vowel       one vowel group swapped                                         comeputer, compiter
word        common words sharing the first or last two phonemes            ...
==========  ==============================================================  ======================

Candidates pronounced like the phrase itself (the same phonemes once stress, length and vowel
reduction are ignored) are dropped: they would teach the model to reject the phrase. Everything
is deterministic: the same phrase gives the same list, in the same order (kinds interleaved so
that any prefix of the list covers every kind).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import re
import shutil
import subprocess
from typing import Iterable, Sequence

VOWELS = "aeiouy"
#: Onsets tried when replacing a word's first consonant cluster (or prefixing a vowel-initial word).
ONSETS = ("b", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "w", "sh", "ch", "st", "br", "pl")
#: Endings put on a word's stem (the word without its last vowel group and what follows it).
ENDINGS = ("", "e", "s", "o", "a", "y", "er", "ing", "ed", "is", "on", "ie", "ah")
#: Consonant swaps: voiced/voiceless pairs and look-alike nasals and liquids.
CONSONANT_SWAPS = {"p": "b", "b": "p", "t": "d", "d": "t", "k": "g", "g": "k", "c": "g", "f": "v", "v": "f",
                   "s": "z", "z": "s", "m": "n", "n": "m", "l": "r", "r": "l", "x": "gz", "j": "ch"}
#: Vowel swaps.
VOWEL_SWAPS = {"a": ("e", "o"), "e": ("i", "a"), "i": ("e", "a"), "o": ("u", "a"), "u": ("o", "i"), "y": ("i",)}
#: Order in which kinds are interleaved into the output.
KINDS = ("partial", "split", "ending", "cluster", "word", "onset", "consonant", "vowel")

_STRESS_AND_LENGTH = str.maketrans("", "", "ˈˌː'ˑ-_ ")
#: Weak-vowel and flap merges applied before comparing pronunciations.
_IPA_MERGES = (("ɚ", "əɹ"), ("ɝ", "əɹ"), ("ɐ", "ə"), ("ʌ", "ə"), ("ᵻ", "ɪ"), ("ɾ", "t"), ("ɑ", "a"), ("ɒ", "a"),
               ("ɔ", "o"), ("əʊ", "oʊ"))


@dataclasses.dataclass(frozen=True)
class Confusable:
    """One sound-alike of the phrase."""

    text: str
    kind: str
    """Which rule made it (see the module table)."""
    ipa: str
    """espeak-ng IPA (en-us), '' when espeak-ng is not installed."""
    distance: int
    """Phoneme edit distance to the phrase after normalisation (-1 when unknown)."""


def words_of(phrase: str) -> list[str]:
    """Lower-case words of a phrase (letters, digits and apostrophes)."""
    return re.findall(r"[a-z0-9']+", phrase.lower())


def syllables(word: str) -> list[str]:
    """Spelling syllables of ``word``: a cut before the last consonant between two vowel groups
    (``computer`` → com·pu·ter, ``alexa`` → a·le·xa, ``jarvis`` → jar·vis). A final silent ``e``
    stays with the syllable before it."""
    groups = [(m.start(), m.end()) for m in re.finditer(f"[{VOWELS}]+", word)]
    if len(groups) > 1 and word.endswith("e") and groups[-1] == (len(word) - 1, len(word)) \
            and word[-2] not in VOWELS and not word.endswith("le"):
        groups = groups[:-1]
    if len(groups) <= 1:
        return [word]
    cuts = []
    for (_, end), (start, _) in zip(groups, groups[1:]):
        gap = start - end
        cuts.append(end if gap == 0 else start - 1 if gap >= 1 else end)
    parts, previous = [], 0
    for cut in cuts:
        parts.append(word[previous:cut])
        previous = cut
    parts.append(word[previous:])
    return [p for p in parts if p]


def _stem(word: str) -> str:
    """The word without its last vowel group and anything after it (``computer`` → ``comput``)."""
    match = re.search(f"[{VOWELS}]+[^{VOWELS}]*$", word)
    stem = word[: match.start()] if match else word
    return stem if re.search(f"[{VOWELS}]", stem) else word


def _word_variants(word: str, seed: int) -> dict[str, list[str]]:
    """Spelling variants of one word, by kind."""
    sylls = syllables(word)
    out: dict[str, list[str]] = {kind: [] for kind in KINDS}
    for k in range(1, len(sylls)):
        out["partial"] += ["".join(sylls[:k]), "".join(sylls[k:])]
        out["split"].append("".join(sylls[:k]) + " " + "".join(sylls[k:]))
    stem = _stem(word)
    out["ending"] = [stem + ending for ending in ENDINGS]
    onset_match = re.match(f"[^{VOWELS}]*", word)
    onset = onset_match.group(0) if onset_match else ""
    rest = word[len(onset):]
    if rest:
        onsets = [o for o in ONSETS if o != onset]
        order = sorted(onsets, key=lambda o: hashlib.sha1(f"{seed}:{word}:{o}".encode()).hexdigest())
        out["onset"] = [o + rest for o in order[:8]]
    for m in re.finditer(f"[^{VOWELS}]{{2,}}", word):
        for i in range(m.start(), m.end()):
            dropped = word[:i] + word[i + 1:]
            out["cluster"].append(dropped)
            if m.end() - m.start() == 2 and m.start() > 0 and word[m.start() - 1] in VOWELS:
                j = m.start()  # one consonant left after a short vowel: also the doubled spelling
                out["cluster"].append(dropped[:j] + dropped[j] + dropped[j:])
    for i, ch in enumerate(word):
        if ch in CONSONANT_SWAPS and not (i > 0 and word[i - 1] == ch):
            out["consonant"].append(word[:i] + CONSONANT_SWAPS[ch] + word[i + 1:])
    for m in re.finditer(f"[{VOWELS}]+", word):
        group = m.group(0)
        for swap in VOWEL_SWAPS.get(group[0], ()):
            out["vowel"].append(word[: m.start()] + swap + group[1:] + word[m.end():])
    return out


def spelling_candidates(phrase: str, seed: int = 0) -> dict[str, list[str]]:
    """Candidate texts by kind, from the spelling alone (no pronunciation check yet)."""
    words = words_of(phrase)
    out: dict[str, list[str]] = {kind: [] for kind in KINDS}
    n = len(words)
    for i in range(n):  # contiguous sub-phrases of a multi-word phrase
        for j in range(i + 1, n + 1):
            if (i, j) != (0, n):
                out["partial"].append(" ".join(words[i:j]))
    for index, word in enumerate(words):
        for kind, variants in _word_variants(word, seed).items():
            for variant in variants:
                out[kind].append(" ".join(words[:index] + [variant] + words[index + 1:]))
                if kind == "partial" and n > 1:
                    out[kind].append(variant)
    return out


def normalise_ipa(ipa: str) -> str:
    """IPA without stress, length, spaces; weak vowels and flaps merged (what a listener may not hear)."""
    text = ipa.strip().translate(_STRESS_AND_LENGTH)
    for old, new in _IPA_MERGES:
        text = text.replace(old, new)
    return text


_IPA_SYMBOLS = re.compile(r"(?:tʃ|dʒ|aɪ|aʊ|eɪ|oʊ|ɔɪ|[^\s])")


def phonemes(ipa: str) -> list[str]:
    """Normalised IPA split into phoneme symbols (affricates and diphthongs kept whole)."""
    return _IPA_SYMBOLS.findall(normalise_ipa(ipa))


_IPA_VOWELS = set("aeiouæɛɪɔʊəɐʌɑɒɜɚɝyøœɤɯʏ")


def consonants(symbols: Sequence[str]) -> list[str]:
    """The consonant phonemes of a phoneme sequence, in order."""
    return [s for s in symbols if s[0] not in _IPA_VOWELS]


def too_close(candidate: Sequence[str], target: Sequence[str]) -> bool:
    """True when ``candidate`` may be heard as the target: the same phonemes, or the same consonants
    with at most two vowels changed (unstressed vowels vary between speakers and accents)."""
    distance = edit_distance(candidate, target)
    return distance == 0 or (consonants(candidate) == consonants(target) and distance <= 2)


def edit_distance(a: Sequence[str], b: Sequence[str]) -> int:
    """Levenshtein distance between two symbol sequences."""
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


def espeak_available() -> bool:
    return shutil.which("espeak-ng") is not None


@functools.lru_cache(maxsize=4096)
def _ipa_one(text: str, voice: str) -> str:
    result = subprocess.run(["espeak-ng", "-q", "--ipa", "-v", voice, text], capture_output=True, text=True,
                            timeout=30, check=False)
    return " ".join(result.stdout.split())


def ipa(texts: Iterable[str], voice: str = "en-us") -> list[str]:
    """espeak-ng IPA of each text (one call for the whole list; '' for every text without espeak-ng)."""
    texts = list(texts)
    if not texts or not espeak_available():
        return [""] * len(texts)
    payload = "".join(f"{t.replace('.', ' ')}.\n" for t in texts)
    result = subprocess.run(["espeak-ng", "-q", "--ipa", "-v", voice], input=payload, capture_output=True,
                            text=True, timeout=120, check=False)
    lines = [" ".join(line.split()) for line in result.stdout.splitlines() if line.strip()]
    if len(lines) == len(texts):
        return lines
    return [_ipa_one(t, voice) for t in texts]  # line structure lost: one call per text


def confusable_phrases(phrase: str, *, max_phrases: int = 80, seed: int = 0,
                       extra_words: Sequence[str] = ()) -> list[Confusable]:
    """Sound-alikes of ``phrase`` for its ``_unknown_`` class (deterministic).

    Parameters
    ----------
    phrase : str
        The wake phrase, e.g. ``"computer"`` or ``"hey jarvis"``.
    max_phrases : int
        Length of the returned list (kinds interleaved, so any prefix covers every kind).
    seed : int
        Changes which onsets are tried.
    extra_words : sequence of str
        Real words to scan for shared first or last phonemes (default: the common and Speech
        Commands words of :mod:`kws.datasets.words`).

    Returns
    -------
    list of Confusable
        Never the phrase, nor anything pronounced like it (when espeak-ng is installed); without
        espeak-ng the spelling rules alone decide and ``distance`` is -1.
    """
    from kws.datasets.words import COMMON_WORDS, SPEECH_COMMANDS_WORDS

    target = " ".join(words_of(phrase))
    if not target:
        return []
    by_kind = spelling_candidates(target, seed)
    pool = list(extra_words) or list(COMMON_WORDS) + list(SPEECH_COMMANDS_WORDS)
    flat: list[tuple[str, str]] = []
    seen = {target, target.replace(" ", "")}
    for kind, texts in by_kind.items():
        for text in texts:
            text = " ".join(text.split())
            if text and text not in seen and re.search(f"[{VOWELS}]", text):
                seen.add(text)
                flat.append((text, kind))
    words = [w for w in dict.fromkeys(pool) if w not in seen]
    pronunciations = ipa([target] + [t for t, _ in flat] + words)
    target_ph = phonemes(pronunciations[0]) if pronunciations[0] else []
    checked: dict[str, list[Confusable]] = {kind: [] for kind in KINDS}
    for (text, kind), pron in zip(flat, pronunciations[1 : 1 + len(flat)]):
        if not target_ph:
            checked[kind].append(Confusable(text, kind, "", -1))
            continue
        candidate_ph = phonemes(pron)
        if not too_close(candidate_ph, target_ph):
            distance = edit_distance(candidate_ph, target_ph)
            checked[kind].append(Confusable(text, kind, pron, distance))
    if target_ph and len(target_ph) >= 2:
        for word, pron in zip(words, pronunciations[1 + len(flat):]):
            ph = phonemes(pron)
            if ph and not too_close(ph, target_ph) and (ph[:2] == target_ph[:2] or ph[-2:] == target_ph[-2:]):
                checked["word"].append(Confusable(word, "word", pron, edit_distance(ph, target_ph)))
        checked["word"].sort(key=lambda c: (c.distance, c.text))
    out: list[Confusable] = []
    position = 0
    while len(out) < max_phrases and any(position < len(v) for v in checked.values()):
        for kind in KINDS:
            if position < len(checked[kind]) and len(out) < max_phrases:
                out.append(checked[kind][position])
        position += 1
    return out


__all__ = ["Confusable", "KINDS", "confusable_phrases", "edit_distance", "espeak_available", "ipa",
           "normalise_ipa", "phonemes", "too_close", "spelling_candidates", "syllables", "words_of"]
