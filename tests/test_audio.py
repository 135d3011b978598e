"""Audio reading: every format a user may bring is converted, every broken file is named."""

import numpy as np
import pytest
import soundfile as sf

from kws.audio import float_to_int16, read_audio, read_audio_float, write_wav
from kws.errors import AudioError


def _tone(rate: int, seconds: float = 0.5, freq_hz: float = 440.0, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (amplitude * np.sin(2 * np.pi * freq_hz * t)).astype(np.float32)


def _dominant_hz(pcm: np.ndarray, rate: int = 16000) -> float:
    spectrum = np.abs(np.fft.rfft(pcm.astype(np.float64)))
    return float(np.argmax(spectrum) * rate / pcm.size)


@pytest.mark.parametrize("subtype", ["PCM_U8", "PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE"])
def test_every_wav_bit_depth_reads_as_int16(tmp_path, subtype):
    path = tmp_path / f"tone_{subtype}.wav"
    sf.write(path, _tone(16000), 16000, subtype=subtype)
    pcm = read_audio(path)
    assert pcm.dtype == np.int16 and pcm.size == 8000
    assert abs(int(np.abs(pcm).max()) - 16384) < 300  # 8-bit keeps ~1% precision
    assert abs(_dominant_hz(pcm) - 440.0) < 4


@pytest.mark.parametrize("fmt,ext", [("FLAC", ".flac"), ("OGG", ".ogg")])
def test_flac_and_ogg(tmp_path, fmt, ext):
    path = tmp_path / f"tone{ext}"
    sf.write(path, _tone(16000), 16000, format=fmt)
    assert abs(_dominant_hz(read_audio(path)) - 440.0) < 4


def test_other_rates_are_resampled_and_stereo_downmixed(tmp_path):
    path = tmp_path / "stereo_44k.wav"
    left = _tone(44100, 1.0, 1000.0, 0.4)
    stereo = np.stack([left, left], axis=1)
    sf.write(path, stereo, 44100, subtype="PCM_16")
    pcm = read_audio(path)
    assert pcm.size == 16000
    assert abs(_dominant_hz(pcm) - 1000.0) < 2
    assert abs(np.abs(pcm).max() / 32768 - 0.4) < 0.01


def test_float_to_int16_rounds_and_saturates():
    out = float_to_int16(np.array([0.0, 1.0, -1.0, 2.0, -2.0, 0.5 / 32768, -0.5 / 32768]))
    assert out.tolist() == [0, 32767, -32768, 32767, -32768, 1, -1]


def test_nan_samples_are_rejected_with_the_file_name(tmp_path):
    path = tmp_path / "nan.wav"
    data = _tone(16000)
    data[100] = np.nan
    sf.write(path, data, 16000, subtype="FLOAT")
    with pytest.raises(AudioError, match=r"nan\.wav.*NaN"):
        read_audio(path)


def test_empty_truncated_and_non_audio_files(tmp_path):
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    with pytest.raises(AudioError, match=r"empty\.wav.*empty"):
        read_audio(empty)

    whole = tmp_path / "whole.wav"
    sf.write(whole, _tone(16000), 16000, subtype="PCM_16")
    truncated = tmp_path / "truncated.wav"
    truncated.write_bytes(whole.read_bytes()[:9000])
    with pytest.raises(AudioError, match=r"truncated\.wav: truncated"):
        read_audio(truncated)
    header_only = tmp_path / "header.wav"
    header_only.write_bytes(whole.read_bytes()[:30])
    with pytest.raises(AudioError, match=r"header\.wav"):
        read_audio(header_only)

    text = tmp_path / "notes.wav"
    text.write_text("this is not audio\n" * 20)
    with pytest.raises(AudioError, match=r"notes\.wav: not a readable audio file"):
        read_audio(text)
    with pytest.raises(AudioError, match="no such file"):
        read_audio(tmp_path / "missing.wav")
    with pytest.raises(AudioError, match="is a directory"):
        read_audio(tmp_path)  # a directory is not a file


def test_zero_length_wav_is_rejected(tmp_path):
    path = tmp_path / "zero.wav"
    sf.write(path, np.zeros(0, np.float32), 16000, subtype="PCM_16")
    with pytest.raises(AudioError, match="no audio samples"):
        read_audio_float(path)


def test_write_wav_round_trips_and_is_atomic(tmp_path):
    pcm = (np.arange(1000) - 500).astype(np.int16)
    path = tmp_path / "out.wav"
    write_wav(path, pcm)
    np.testing.assert_array_equal(read_audio(path), pcm)
    assert [p.name for p in tmp_path.iterdir()] == ["out.wav"]
    with pytest.raises(AudioError, match="int16"):
        write_wav(tmp_path / "bad.wav", pcm.astype(np.float32))
    assert not (tmp_path / "bad.wav").exists()


def test_a_directory_given_as_audio_says_it_is_a_directory(tmp_path):
    from kws.audio import read_audio
    from kws.errors import AudioError

    with pytest.raises(AudioError, match="is a directory"):
        read_audio(tmp_path)


def test_data_summary_of_an_audio_file_or_binary_says_what_is_wrong(tmp_path, capsys):
    from kws.audio import write_wav
    from kws.cli import main

    wav = tmp_path / "clip.wav"
    write_wav(wav, np.zeros(1600, np.int16))
    assert main(["data", "summary", str(wav)]) == 1
    assert "is an audio file, not a manifest" in capsys.readouterr().err
    blob = tmp_path / "x.jsonl"
    blob.write_bytes(b"\xff\xfe\x00binary")
    assert main(["data", "summary", str(blob)]) == 1
    err = capsys.readouterr().err
    assert "not a text file" in err and "Traceback" not in err
