"""The confusable-phrase generator: deterministic, covers every rule, never the phrase or a homophone."""

import pytest

from kws.datasets import confusables as cf


def test_spelling_syllables():
    assert cf.syllables("computer") == ["com", "pu", "ter"]
    assert cf.syllables("jarvis") == ["jar", "vis"]
    assert cf.syllables("cat") == ["cat"]


def test_edit_distance_and_normalised_phonemes():
    assert cf.edit_distance(list("kitten"), list("sitting")) == 3
    assert cf.normalise_ipa("kəmpjˈuːɾɚ") == "kəmpjutəɹ"
    assert cf.too_close(cf.phonemes("ɐlˈɛksə"), cf.phonemes("ɛlˈɛksə"))  # vowel-only change: too close
    assert not cf.too_close(cf.phonemes("kəmjˈuːɾɚ"), cf.phonemes("kəmpjˈuːɾɚ"))  # a consonant dropped: a negative


@pytest.mark.skipif(not cf.espeak_available(), reason="espeak-ng not installed")
def test_computer_gives_the_classic_confusables_and_never_itself():
    found = cf.confusable_phrases("computer", max_phrases=200)
    texts = [c.text for c in found]
    for expected in ("commuter", "compute", "puter", "compu ter", "computing"):
        assert expected in texts, expected
    assert "computer" not in texts
    assert {c.kind for c in found} >= {"partial", "split", "ending", "cluster", "onset", "consonant", "vowel", "word"}
    assert all(c.distance >= 1 and c.ipa for c in found)
    assert texts == [c.text for c in cf.confusable_phrases("computer", max_phrases=200)]  # deterministic
    short = cf.confusable_phrases("computer", max_phrases=8)
    assert len({c.kind for c in short}) == 8  # any prefix covers every kind


@pytest.mark.skipif(not cf.espeak_available(), reason="espeak-ng not installed")
def test_multi_word_phrase_gives_its_parts_and_no_homophone():
    texts = [c.text for c in cf.confusable_phrases("Hey Jarvis!", max_phrases=200)]
    assert "jarvis" in texts and "hey" in texts and "hey jarvis" not in texts
    target = cf.phonemes(cf.ipa(["hey jarvis"])[0])
    for text, pron in zip(texts, cf.ipa(texts)):
        assert not cf.too_close(cf.phonemes(pron), target), text


def test_without_espeak_the_spelling_rules_still_work(monkeypatch):
    monkeypatch.setattr(cf, "espeak_available", lambda: False)
    found = cf.confusable_phrases("alexa", max_phrases=30)
    assert found and all(c.distance == -1 and c.text != "alexa" for c in found)
    assert cf.confusable_phrases("  !! ") == []
