"""Mining real words out of continuous speech (kws.datasets.word_mining, `kws mine-words`)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from kws.audio import read_audio
from kws.datasets.word_mining import (MANIFEST, CutRule, RecognisedWord, base_word, cut_word, folder_name,
                                      keyword_sound_alikes, mine_words, read_pronunciations, recognise)

pytest.importorskip("pocketsphinx")


@pytest.fixture(scope="module")
def speech_folder(real_data, tmp_path_factory) -> Path:
    """Two speakers x two read sentences of the shared speechocean762 (symlinked, not copied)."""
    source = real_data / "speech" / "speechocean762"
    if not source.is_dir():
        pytest.skip(f"{source} not found")
    root = tmp_path_factory.mktemp("speech")
    for speaker in sorted(p for p in source.iterdir() if p.is_dir())[:2]:
        (root / speaker.name).mkdir()
        for utterance in sorted(speaker.glob("*.flac"))[:2]:
            (root / speaker.name / utterance.name).symlink_to(utterance)
    return root


def test_pronunciation_variants_and_sound_alikes(tmp_path):
    dictionary = tmp_path / "dict"
    dictionary.write_text("no N OW\nknow N OW\nknow(2) N OW W\nnote N OW T\nwrite R AY T\nright R AY T\n"
                          "rite R AY T\nup AH P\n")
    pronunciations = read_pronunciations(dictionary)
    assert pronunciations["know"] == {"N OW", "N OW W"}
    assert base_word("climate(2)") == "climate"
    alikes = keyword_sound_alikes(["no", "right", "up", "stop"], pronunciations)
    assert alikes == {"no": "no", "know": "no", "right": "right", "write": "right", "rite": "right", "up": "up",
                      "stop": "stop"}


def test_cut_word_pads_fades_and_skips():
    rate = 16000
    pcm = (8000 * np.sin(np.arange(rate * 2) * 0.05)).astype(np.int16)
    rule = CutRule(min_word_s=0.25, max_word_s=0.9, pad_s=0.04, fade_s=0.01)
    clip = cut_word(pcm, RecognisedWord("hello", 0.5, 1.0), rule)
    assert clip is not None and clip.dtype == np.int16
    assert clip.size == int(round(0.58 * rate))
    assert abs(int(clip[0])) == 0 and abs(int(clip[-1])) < 100  # faded: no click at the cut
    assert np.max(np.abs(clip[200:-200])) > 7000
    assert cut_word(pcm, RecognisedWord("a", 0.5, 0.6), rule) is None  # too short to be a clip
    assert cut_word(pcm, RecognisedWord("long", 0.2, 1.5), rule) is None
    quiet = (pcm // 1000).astype(np.int16)  # peak -52 dBFS
    assert cut_word(quiet, RecognisedWord("hello", 0.5, 1.0), rule) is None
    edge = cut_word(pcm, RecognisedWord("end", 1.7, 2.0), rule)  # padding stops at the end of the audio
    assert edge is not None and edge.size == int(round(0.34 * rate))


def test_recognise_real_read_speech(speech_folder):
    path = sorted(speech_folder.glob("*/*.flac"))[0]
    pcm = read_audio(path, 16000)
    words = recognise(pcm)
    assert len(words) >= 2
    assert all(not w.word.startswith(("<", "[")) and "(" not in w.word for w in words)
    assert all(0.0 <= a.start_s < a.end_s <= pcm.size / 16000 + 0.02 for a in words)
    assert all(a.end_s <= b.start_s + 1e-9 for a, b in zip(words, words[1:]))


def test_mine_words_writes_a_label_folder_dataset(speech_folder, tmp_path):
    from kws.datasets.folders import load_label_folders
    from kws.errors import DataError

    broken = speech_folder.parent / "speech_with_bad"
    shutil.copytree(speech_folder, broken, symlinks=True)
    (broken / sorted(p.name for p in speech_folder.iterdir())[0] / "broken.flac").write_bytes(b"not audio")
    out = tmp_path / "mined"
    report = mine_words(broken, out, ["no", "on", "go", "up", "yes"], jobs=1, progress=False)
    assert [Path(p).name for p, _ in report.bad_files] == ["broken.flac"]  # reported, the rest mined
    assert report.utterances == 4 and report.clips >= 4
    manifest = json.loads((out / MANIFEST).read_text())
    assert len(manifest["clips"]) == report.clips
    files = sorted(str(p.relative_to(out)) for p in out.glob("*/*.wav"))
    assert files == sorted(c["clip"] for c in manifest["clips"])
    load = load_label_folders(out)
    assert {r.speaker for r in load.records} <= {p.name for p in speech_folder.iterdir()}
    for entry in manifest["clips"]:
        folder = entry["clip"].split("/")[0]
        assert folder == (entry["keyword"] or folder_name(entry["word"]))
        pcm = read_audio(out / entry["clip"], 16000)
        assert 0.25 <= entry["end_s"] - entry["start_s"] <= 0.9 and pcm.size <= 0.99 * 16000
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]  # no temporary folder left
    with pytest.raises(DataError, match="already exists"):
        mine_words(broken, out, ["no"], jobs=1, progress=False)


def test_mine_words_cli_with_cross_check(speech_folder, tmp_path, capsys):
    from kws.cli import main

    out = tmp_path / "mined"
    assert main(["mine-words", str(speech_folder), "--out", str(out), "--jobs", "1", "--no-progress",
                 "--check-with", "commands"]) == 0
    printed = capsys.readouterr().out
    assert "4 utterances" in printed and "clips written to" in printed
    assert "keyword clips confirmed by commands:" in printed
    assert (out / MANIFEST).is_file()


def test_mine_words_refuses_an_empty_folder(tmp_path):
    from kws.errors import DataError

    (tmp_path / "empty" / "SPK1").mkdir(parents=True)
    with pytest.raises(DataError, match="no audio files"):
        mine_words(tmp_path / "empty", tmp_path / "out", ["no"], jobs=1, progress=False)
    with pytest.raises(DataError, match="speech folder not found"):
        mine_words(tmp_path / "missing", tmp_path / "out", ["no"], jobs=1, progress=False)


def test_training_takes_mined_unknown_words_of_training_speakers_only(speech_folder, tmp_path):
    from kws.training.config import TrainConfig
    from kws.training.data import mined_real

    labels = ("_silence_", "_unknown_", "no", "on", "go", "up", "yes")
    base = dict(labels=labels, cache_dir=str(tmp_path / "cache"), mined_speech=(str(speech_folder),), jobs=1)
    every = TrainConfig(**base, all_speakers=True, mined_unknown_max=10_000)
    records, bad = mined_real(every)
    assert not bad and records and {r.label for r in records} == {"_unknown_"}  # keyword sound-alikes left out
    cached = list((tmp_path / "cache" / "mined_words").iterdir())
    assert len(cached) == 1  # mined once, then reused
    again, _ = mined_real(every)
    assert [r.path for r in again] == [r.path for r in records]
    capped, _ = mined_real(TrainConfig(**base, all_speakers=True, mined_unknown_max=3))
    assert len(capped) == 3
    speakers = {r.speaker for r in records}
    assert len(speakers) == 2
    training_side = [{r.speaker for r in mined_real(TrainConfig(**base, folds=2, fold=fold,
                                                                mined_unknown_max=10_000))[0]} for fold in range(2)]
    for speaker in speakers:  # each speaker validates in one fold, so trains in the other only
        assert sum(speaker in side for side in training_side) == 1
