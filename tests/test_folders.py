"""Local label folders: loading, bad-file reporting, label mapping, speakers, speaker-disjoint split."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from kws.datasets import folders
from kws.datasets.folders import BadFile, load_label_folders, speaker_from_name, split_by_speaker
from kws.datasets.manifest import ClipRecord
from kws.datasets.paths import data_folder, data_root, repo_root, require_data_folder
from kws.errors import AudioError, ConfigError, DataError


def write_audio(path: Path, pcm: np.ndarray, *, fmt: str = "WAV", subtype: str = "PCM_16", rate: int = 16000) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), pcm, rate, format=fmt, subtype=subtype)
    return path


def noise_pcm(seed: int, peak: int = 3000, n: int = 1600) -> np.ndarray:
    return np.random.default_rng(seed).integers(-peak, peak + 1, n).astype(np.int16)


@pytest.fixture
def tree(tmp_path) -> Path:
    """yes/ (2 good + broken, empty, silent, dither, cut short), no/ (flac, ogg), _silence_/ (quiet), noise."""
    root = tmp_path / "clips"
    write_audio(root / "yes" / "aaaa1111_nohash_0.wav", noise_pcm(1))
    write_audio(root / "yes" / "bbbb2222_nohash_3.wav", noise_pcm(2))
    (root / "yes" / "broken.wav").write_bytes(b"RIFF this is not audio at all" * 10)
    (root / "yes" / "empty.wav").write_bytes(b"")
    write_audio(root / "yes" / "silent.wav", np.zeros(1600, np.int16))
    write_audio(root / "yes" / "dither.wav", noise_pcm(3, peak=1))
    full = write_audio(root / "yes" / "cut.wav", noise_pcm(4, n=16000)).read_bytes()
    (root / "yes" / "cut.wav").write_bytes(full[:2000])
    (root / "yes" / "notes.txt").write_text("not audio, not listed")
    write_audio(root / "no" / "cccc3333_nohash_0.flac", noise_pcm(5), fmt="FLAC")
    write_audio(root / "no" / "dddd4444_nohash_1.ogg", noise_pcm(6).astype(np.float32) / 32768, fmt="OGG", subtype="VORBIS")
    write_audio(root / "_silence_" / "17.wav", noise_pcm(7, peak=40))
    write_audio(root / "_background_noise_" / "long.wav", noise_pcm(8, n=32000))
    return root


def names(paths) -> list[str]:
    return sorted(Path(p).name for p in paths)


def test_header_check_skips_unreadable_files(tree):
    result = load_label_folders(tree)
    assert result.counts() == {"_silence_": 1, "no": 2, "yes": 4}  # silent and dither pass a header check
    reasons = {Path(b.path).name: b.reason for b in result.bad_files}
    assert set(reasons) == {"broken.wav", "empty.wav", "cut.wav"}
    assert reasons["cut.wav"] == "truncated: data chunk declares 32000 bytes, file holds 1956"
    assert reasons["empty.wav"] == "file is empty (0 bytes)"
    assert reasons["broken.wav"].startswith("not a readable audio file")
    assert all(isinstance(b, BadFile) and Path(b.path).is_absolute() for b in result.bad_files)
    assert "skipped" in result.report() and "broken.wav" in result.report()


def test_decode_check_also_rejects_silent_and_truncated_files(tree):
    result = load_label_folders(tree, check="decode")
    assert result.counts() == {"_silence_": 1, "no": 2, "yes": 2}
    reasons = {Path(b.path).name: b.reason for b in result.bad_files}
    assert set(reasons) == {"broken.wav", "empty.wav", "silent.wav", "dither.wav", "cut.wav"}
    assert reasons["silent.wav"].startswith("silent (peak |x| = 0 LSB")
    assert reasons["dither.wav"].startswith("silent (peak |x| = 1 LSB")
    assert "truncated" in reasons["cut.wav"]


def test_quiet_silence_class_is_kept(tree):
    result = load_label_folders(tree, labels=["_silence_"], check="decode")
    assert [r.label for r in result.records] == ["_silence_"]
    assert result.bad_files == []


def test_files_checked_late_are_reported_when_loaded(tree):
    result = load_label_folders(tree, labels=["yes"], check="none")
    assert len(result.records) == 7 and result.bad_files == []
    decoded = folders.decode_records(result.records)
    assert names(r.path for r in decoded.records) == ["aaaa1111_nohash_0.wav", "bbbb2222_nohash_3.wav"]
    assert all(p.dtype == np.int16 and p.shape == (1600,) for p in decoded.pcm)
    assert names(b.path for b in decoded.bad_files) == ["broken.wav", "cut.wav", "dither.wav", "empty.wav", "silent.wav"]
    with pytest.raises(AudioError, match=r"silent\.wav: silent"):
        folders.read_clip(tree / "yes" / "silent.wav")


def test_records_fields(tree):
    result = load_label_folders(tree)
    record = next(r for r in result.records if Path(r.path).name == "cccc3333_nohash_0.flac")
    assert record == ClipRecord(path=str((tree / "no" / "cccc3333_nohash_0.flac").resolve()), label="no",
                                speaker="cccc3333", source="real", text="no", meta={"folder": "no"})  # fmt: skip
    silence = next(r for r in result.records if r.label == "_silence_")
    assert (silence.speaker, silence.text) == ("_silence_/17", "")
    assert "_background_noise_" not in result.labels()


def test_label_filter_and_mapping(tree):
    only_no = load_label_folders(tree, labels=["no"])
    assert only_no.labels() == ["no"]
    mapped = load_label_folders(tree, labels={"yes": "keyword", "no": "_unknown_", "_silence_": None})
    assert mapped.counts() == {"_unknown_": 2, "keyword": 4}
    assert {r.text for r in mapped.records if r.label == "_unknown_"} == {"no"}  # the spoken word stays
    with pytest.raises(DataError, match="label folder 'maybe' not found"):
        load_label_folders(tree, labels=["yes", "maybe"])


def test_folder_without_usable_audio_is_an_error(tree):
    dead = tree / "dead"
    dead.mkdir()
    (dead / "a.wav").write_bytes(b"")
    (dead / "b.flac").write_bytes(b"garbage" * 20)
    with pytest.raises(DataError, match=r"dead: label folder 'dead' has no usable audio: all 2 files rejected"):
        load_label_folders(tree)
    (dead / "a.wav").unlink()
    (dead / "b.flac").unlink()
    with pytest.raises(DataError, match="label folder 'dead' holds no .wav/.flac/.ogg files"):
        load_label_folders(tree)


def test_silent_only_folder_is_an_error_when_decoded(tree):
    with pytest.raises(DataError, match="'quiet' has no usable audio.*silent"):
        write_audio(tree / "quiet" / "z.wav", np.zeros(800, np.int16))
        load_label_folders(tree, labels=["quiet"], check="decode")


def test_bad_arguments(tree, tmp_path):
    with pytest.raises(DataError, match="folder not found"):
        load_label_folders(tmp_path / "nowhere")
    with pytest.raises(ConfigError, match="check='full'"):
        load_label_folders(tree, check="full")


@pytest.mark.parametrize(
    "stem, folder, speaker",
    [
        ("0a7c2a8d_nohash_1", "yes", "0a7c2a8d"),
        ("bed_28497c5b_nohash_0", "_unknown_", "28497c5b"),
        ("0_george_12", "0", "george"),
        ("spk07_003", "alexa", "spk07"),
        ("0", "alexa", "alexa/0"),
        ("1037", "_silence_", "_silence_/1037"),
        ("take-two", "go", "take-two"),
    ],
)
def test_speaker_from_name(stem, folder, speaker):
    assert speaker_from_name(stem, folder) == speaker


def make_records(n_speakers: int, clips_each: int) -> list[ClipRecord]:
    return [
        ClipRecord(path=f"/x/{s}_{k}.wav", label="yes", speaker=f"spk{s:03d}", source="real")
        for s in range(n_speakers)
        for k in range(clips_each)
    ]


def test_split_by_speaker_is_disjoint_and_deterministic():
    records = make_records(400, 3)
    split = split_by_speaker(records, 0.25)
    train_speakers = {r.speaker for r in split.train}
    validation_speakers = {r.speaker for r in split.validation}
    assert not train_speakers & validation_speakers
    assert len(split.train) + len(split.validation) == len(records)
    assert len(validation_speakers) / 400 == pytest.approx(0.25, abs=0.06)
    again = split_by_speaker(list(reversed(records)), 0.25)
    assert {r.path for r in again.validation} == {r.path for r in split.validation}
    salted = split_by_speaker(records, 0.25, salt="other")
    assert {r.speaker for r in salted.validation} != validation_speakers
    assert split_by_speaker(records, 0.0).validation == []
    assert split_by_speaker(records, 1.0).train == []
    with pytest.raises(ConfigError, match="validation_fraction=1.5"):
        split_by_speaker(records, 1.5)


def test_split_grows_monotonically_with_fraction():
    records = make_records(200, 1)
    small = {r.speaker for r in split_by_speaker(records, 0.1).validation}
    large = {r.speaker for r in split_by_speaker(records, 0.3).validation}
    assert small <= large


def test_data_root_follows_kws_data(monkeypatch, tmp_path):
    monkeypatch.setenv("KWS_DATA", str(tmp_path))
    assert data_root() == tmp_path
    assert data_folder("ambient") == tmp_path / "ambient"
    with pytest.raises(DataError, match="nope: data folder not found .*KWS_DATA"):
        require_data_folder("nope")
    monkeypatch.delenv("KWS_DATA")
    assert data_root() == repo_root().parent / "shared" / "data" / "real"
    assert (repo_root() / "datasets" / "paths.py").is_file()


# --------------------------------------------------------------------------- #
# The shared real data
# --------------------------------------------------------------------------- #


def real_folder(name: str) -> Path:
    folder = data_folder(name)
    if not folder.is_dir():
        pytest.skip(f"shared real data folder {folder} not found (set KWS_DATA to the folder holding it)")
    return folder


def test_real_speech_commands_test_folder():
    result = load_label_folders(real_folder("speech_commands_v0.02_test"))
    assert len(result.records) == 2702 and result.bad_files == []
    assert len(result.labels()) == 12 and "_silence_" in result.labels()
    word_speakers = {r.speaker for r in result.records if r.label != "_silence_"}
    assert len(word_speakers) == 135
    split = split_by_speaker(result.records, 0.2)
    assert not {r.speaker for r in split.train} & {r.speaker for r in split.validation}
    assert 0.1 < len(split.validation) / len(result.records) < 0.3
    assert {r.label for r in split.validation} == set(result.labels())


def test_real_silence_clips_pass_the_decode_check():
    result = load_label_folders(real_folder("speech_commands_v0.02_test"), labels=["_silence_"], check="decode")
    assert len(result.records) == 183 and result.bad_files == []


def test_real_flac_folder_speakers():
    result = load_label_folders(real_folder("free_spoken_digits"), labels=["0", "1"])
    assert len({r.speaker for r in result.records}) == 6
