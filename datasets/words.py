"""Word lists for keywords and for the ``_unknown_`` class.

Three kinds of word live here:

* the Speech Commands vocabulary: the ten command words of the 12-class task
  and the 25 other words of v0.02;
* :data:`COMMON_WORDS`, about 200 everyday English words that are neither
  keywords nor sound-alikes of them, the bulk of a synthetic ``_unknown_`` class;
* :data:`CONFUSABLES`, hand-written sound-alikes for each command word (rhymes,
  shared onsets, shared vowels), which teach a model where a keyword ends.

:func:`unknown_words` combines them into the texts of an ``_unknown_`` class
for a given set of keywords. Everything is lower case and holds single words.
"""

from __future__ import annotations

import random
from typing import Iterable, Sequence

from kws.datasets.speech_commands import COMMAND_WORDS as KEYWORDS
from kws.datasets.speech_commands import UNKNOWN_LABEL, WORDS_V2

#: All 35 words of Speech Commands v0.02.
SPEECH_COMMANDS_WORDS = WORDS_V2

#: The 25 words of Speech Commands v0.02 that are not command words.
OTHER_SPEECH_COMMANDS_WORDS = tuple(w for w in WORDS_V2 if w not in KEYWORDS)

#: Words pronounced exactly like a command word. They are never used as
#: ``_unknown_`` examples for that keyword: the audio would be identical.
HOMOPHONES = {
    "no": ("know", "noh"),
    "right": ("write", "rite", "wright"),
    "go": ("goh",),
    "yes": (),
    "up": (),
    "down": (),
    "left": (),
    "on": (),
    "off": (),
    "stop": (),
}

#: Sound-alikes of each command word: rhymes, shared onsets and shared vowels.
CONFUSABLES = {
    "yes": ("yet", "yeah", "guess", "chess", "less", "mess", "dress", "press", "yell", "yellow", "test", "nest",
            "bless"),
    "no": ("now", "note", "nose", "snow", "slow", "show", "low", "nope", "gnome", "toe", "row", "bow", "known"),
    "up": ("cup", "pup", "cut", "hub", "tub", "sup", "upper", "hop", "jump", "puppy", "oops", "stuff"),
    "down": ("town", "gown", "clown", "crown", "dawn", "done", "round", "sound", "brown", "noun", "ground", "drown",
             "pound"),
    "left": ("lift", "lest", "loft", "theft", "deaf", "laughed", "leaf", "list", "last", "lend", "west", "lefty"),
    "right": ("light", "bright", "fight", "night", "ride", "rice", "white", "bite", "kite", "ripe", "rye", "tight",
              "quite"),
    "on": ("in", "an", "own", "gone", "john", "lawn", "con", "don", "odd", "onion", "honest", "upon"),
    "off": ("of", "cough", "often", "offer", "soft", "awful", "scoff", "loft", "boss", "moth", "toss"),
    "stop": ("top", "shop", "drop", "stock", "step", "spot", "stoop", "stomp", "swap", "pop", "hop", "stuck"),
    "go": ("goat", "ghost", "gold", "goal", "grow", "glow", "dough", "code", "coat", "though", "toe", "gone"),
}  # fmt: skip

#: About 200 common English words for the ``_unknown_`` class: no command word,
#: no homophone of one, no confusable listed above.
COMMON_WORDS = (
    # nouns
    "time", "person", "year", "way", "day", "thing", "man", "world", "life", "hand",
    "part", "child", "eye", "woman", "place", "work", "week", "case", "point", "number",
    "group", "problem", "fact", "water", "money", "story", "month", "book", "job", "word",
    "business", "issue", "side", "kind", "head", "service", "friend", "father", "power", "hour",
    "game", "line", "end", "member", "law", "car", "city", "name", "team", "minute",
    "idea", "kid", "body", "information", "back", "parent", "face", "level", "office", "door",
    "health", "art", "war", "history", "party", "result", "change", "morning", "reason", "research",
    "girl", "guy", "moment", "air", "teacher", "force", "education", "food", "music", "paper",
    "window", "table", "chair", "phone", "garden", "river", "mountain", "picture", "school", "family",
    "question", "answer", "computer", "kitchen", "coffee", "winter", "summer", "animal", "doctor", "market",
    # verbs
    "say", "make", "take", "see", "come", "think", "look", "want", "give", "use",
    "find", "tell", "ask", "seem", "feel", "try", "leave", "call", "keep", "begin",
    "help", "talk", "turn", "start", "watch", "hear", "play", "run", "move", "like",
    "live", "believe", "bring", "happen", "sit", "stand", "lose", "pay", "meet", "include",
    "continue", "speak", "read", "build", "open", "walk", "win", "teach", "remember", "love",
    # adjectives, adverbs and the rest
    "good", "new", "first", "late", "long", "great", "little", "other", "old", "big",
    "high", "different", "small", "large", "next", "early", "young", "important", "few", "public",
    "bad", "same", "able", "very", "really", "maybe", "never", "always", "today", "tomorrow",
    "together", "enough", "almost", "quickly", "later", "because", "about", "after", "before", "between",
    "under", "without", "again", "please", "thanks", "hello", "orange", "purple", "green", "seventeen",
)  # fmt: skip


def _dedupe(words: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for word in words:
        if word not in seen:
            seen.add(word)
            out.append(word)
    return out


def excluded_words(keywords: Sequence[str]) -> set[str]:
    """The keywords themselves and their homophones, lower case.

    Parameters
    ----------
    keywords : sequence of str
        The words a model is trained to detect.

    Returns
    -------
    set of str
        Words that must never appear in the ``_unknown_`` class.
    """
    excluded = set()
    for keyword in keywords:
        word = keyword.strip().lower()
        excluded.add(word)
        excluded.update(HOMOPHONES.get(word, ()))
    return excluded


def confusable_words(keywords: Sequence[str]) -> list[str]:
    """The sound-alikes of ``keywords`` (those listed in :data:`CONFUSABLES`), in order.

    Keywords without a hand-written list contribute nothing. Words that are
    themselves one of ``keywords`` or a homophone of one are left out.

    Returns
    -------
    list of str
        Deduplicated, in keyword order then list order.
    """
    excluded = excluded_words(keywords)
    words = (w for k in keywords for w in CONFUSABLES.get(k.strip().lower(), ()))
    return [w for w in _dedupe(words) if w not in excluded]


def unknown_words(keywords: Sequence[str] = KEYWORDS, seed: int = 0) -> list[str]:
    """Texts for an ``_unknown_`` class when training on ``keywords``.

    The list holds the confusables of ``keywords``, the Speech Commands words
    that are not keywords (including command words left out of ``keywords``)
    and :data:`COMMON_WORDS`, without duplicates, keywords or their homophones,
    shuffled by ``seed``.

    Parameters
    ----------
    keywords : sequence of str
        The words the model detects.
    seed : int
        Seed of the shuffle; the same seed gives the same order.

    Returns
    -------
    list of str
        About 250 distinct lower-case words.
    """
    excluded = excluded_words(keywords)
    candidates = confusable_words(keywords) + list(SPEECH_COMMANDS_WORDS) + list(COMMON_WORDS)
    words = [w for w in _dedupe(candidates) if w not in excluded]
    random.Random(f"unknown_words:{seed}").shuffle(words)
    return words
