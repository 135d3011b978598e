"""Word lists: Speech Commands vocabulary, common words, confusables, unknown_words."""

from __future__ import annotations

import re

import pytest

from kws.datasets import words


def test_speech_commands_vocabulary():
    assert words.KEYWORDS == ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go")
    assert len(words.OTHER_SPEECH_COMMANDS_WORDS) == 25
    assert len(set(words.SPEECH_COMMANDS_WORDS)) == 35
    assert {"marvin", "sheila", "backward", "visual", "wow"} <= set(words.OTHER_SPEECH_COMMANDS_WORDS)


def _all_lists():
    yield "COMMON_WORDS", words.COMMON_WORDS
    for keyword, confusables in words.CONFUSABLES.items():
        yield f"CONFUSABLES[{keyword}]", confusables


@pytest.mark.parametrize("name, word_list", list(_all_lists()))
def test_lists_hold_distinct_lower_case_single_words(name, word_list):
    assert len(set(word_list)) == len(word_list), name
    for word in word_list:
        assert re.fullmatch(r"[a-z]+", word), f"{name}: {word!r}"


def test_common_words_are_about_200_and_never_a_keyword_or_sound_alike():
    common = set(words.COMMON_WORDS)
    assert 180 <= len(common) <= 250
    confusables = {w for ws in words.CONFUSABLES.values() for w in ws}
    assert not common & words.excluded_words(words.KEYWORDS)
    assert not common & set(words.SPEECH_COMMANDS_WORDS)
    assert not common & confusables


def test_every_keyword_has_hand_written_confusables():
    assert set(words.CONFUSABLES) == set(words.KEYWORDS) == set(words.HOMOPHONES)
    for keyword, confusables in words.CONFUSABLES.items():
        assert len(confusables) >= 8, keyword
        assert keyword not in confusables
        assert not set(confusables) & set(words.HOMOPHONES[keyword])
    assert {"yet", "guess", "chess", "less", "yeah"} <= set(words.CONFUSABLES["yes"])


def test_unknown_words_exclude_keywords_and_homophones():
    unknown = words.unknown_words(words.KEYWORDS, seed=0)
    assert len(unknown) == len(set(unknown)) >= 250
    assert not set(unknown) & words.excluded_words(words.KEYWORDS)
    assert "know" not in unknown and "write" not in unknown


def test_unknown_words_for_a_subset_of_keywords():
    unknown = set(words.unknown_words(["yes", "No"], seed=0))
    assert "yes" not in unknown and "no" not in unknown and "know" not in unknown
    assert {"left", "stop", "go"} <= unknown  # other command words are unknown here
    assert set(words.confusable_words(["yes", "no"])) <= unknown
    assert set(words.COMMON_WORDS) <= unknown


def test_unknown_words_are_shuffled_by_seed():
    a = words.unknown_words(words.KEYWORDS, seed=1)
    assert a == words.unknown_words(words.KEYWORDS, seed=1)
    b = words.unknown_words(words.KEYWORDS, seed=2)
    assert a != b and sorted(a) == sorted(b)


def test_confusable_words_skip_unknown_keywords_and_dedupe():
    assert words.confusable_words(["hey computer"]) == []
    both = words.confusable_words(["up", "stop"])  # "hop" is listed under both
    assert both.count("hop") == 1
