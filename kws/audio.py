"""Reading, converting and writing audio.

Everything downstream of this module sees mono int16 PCM at the front end's
sample rate. Files may be WAV/FLAC/OGG in any bit depth (8/16/24/32-bit
integer or float), any sample rate and any channel count: they are downmixed,
resampled with the SoX "very high quality" resampler (``soxr``, VHQ) and
rounded to int16. Unusable input raises :class:`kws.errors.AudioError` naming
the file and the problem.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from kws.errors import AudioError
from kws.fileio import atomic_path

#: Name of the resampler used for every rate conversion, printed in reports.
RESAMPLER = "soxr VHQ"

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg")


def resample(samples: np.ndarray, rate_in_hz: int, rate_out_hz: int) -> np.ndarray:
    """Resample float audio with soxr (VHQ).

    Parameters
    ----------
    samples : np.ndarray [shape=(n,) or (n, channels), float32/float64]
    rate_in_hz, rate_out_hz : int

    Returns
    -------
    np.ndarray [shape=(round(n * rate_out / rate_in), ...), float32]
    """
    samples = np.asarray(samples, dtype=np.float32)
    if rate_in_hz == rate_out_hz:
        return samples
    import soxr

    return soxr.resample(samples, rate_in_hz, rate_out_hz, quality="VHQ").astype(np.float32)


def float_to_int16(samples: np.ndarray) -> np.ndarray:
    """Convert float audio in [-1, 1) to int16: scale by 32768, round half away, saturate.

    Parameters
    ----------
    samples : np.ndarray [shape=(n,), float]

    Returns
    -------
    np.ndarray [shape=(n,), int16]
    """
    scaled = np.asarray(samples, dtype=np.float64) * 32768.0
    rounded = np.sign(scaled) * np.floor(np.abs(scaled) + 0.5)
    return np.clip(rounded, -32768, 32767).astype(np.int16)


def int16_to_float(pcm: np.ndarray) -> np.ndarray:
    """int16 PCM to float32 in [-1, 1) (divide by 32768)."""
    return np.asarray(pcm, dtype=np.float32) / np.float32(32768.0)


def check_finite(samples: np.ndarray, source: str) -> None:
    """Raise :class:`AudioError` if ``samples`` holds NaN or infinity."""
    if not np.all(np.isfinite(samples)):
        bad = int(np.count_nonzero(~np.isfinite(samples)))
        raise AudioError(f"{source}: {bad} samples are NaN or infinite")


def downmix(samples: np.ndarray) -> np.ndarray:
    """Average the channels of ``samples`` [shape=(n, channels)] to mono [shape=(n,)]."""
    if samples.ndim == 1:
        return samples
    return samples.mean(axis=1, dtype=np.float64).astype(np.float32)


def wav_truncation(path: str | os.PathLike) -> str | None:
    """For a RIFF/WAVE file, say how it is truncated, or None if its data chunk is whole.

    libsndfile quietly shortens a WAV whose ``data`` chunk is cut off, so this
    walks the chunk headers and compares the declared size with the bytes present.
    """
    import struct

    size = os.path.getsize(path)
    with open(path, "rb") as f:
        header = f.read(12)
        if len(header) < 12 or header[:4] != b"RIFF" or header[8:12] != b"WAVE":
            return None
        offset = 12
        while offset + 8 <= size:
            f.seek(offset)
            chunk_id, chunk_size = struct.unpack("<4sI", f.read(8))
            if chunk_id == b"data":
                present = size - offset - 8
                if chunk_size not in (0, 0xFFFFFFFF) and present < chunk_size:  # 0/~0: streamed WAV
                    return f"truncated: data chunk declares {chunk_size} bytes, file holds {present}"
                return None
            offset += 8 + chunk_size + (chunk_size & 1)
    return "truncated: no complete 'data' chunk"


def check_audio_file(path: str | os.PathLike) -> None:
    """Raise :class:`AudioError` naming the file when it is a directory, missing, empty or a
    truncated WAV (checked before decoding: libsndfile would silently read a cut WAV short)."""
    p = Path(path)
    if p.is_dir():
        raise AudioError(f"{path}: is a directory, not an audio file")
    if not p.is_file():
        raise AudioError(f"{path}: no such file")
    if p.stat().st_size == 0:
        raise AudioError(f"{path}: file is empty (0 bytes)")
    problem = wav_truncation(p)  # None for whole WAVs and for other formats
    if problem:
        raise AudioError(f"{path}: {problem}")


def read_audio_float(path: str | os.PathLike, sample_rate: int = 16000) -> np.ndarray:
    """Read an audio file as mono float32 in [-1, 1] at ``sample_rate``.

    Parameters
    ----------
    path : path to a WAV, FLAC or OGG file
    sample_rate : int, target rate in Hz

    Returns
    -------
    np.ndarray [shape=(n,), float32]

    Raises
    ------
    AudioError
        missing, empty, truncated or non-audio file, or NaN/inf samples.
    """
    import soundfile as sf

    source = str(path)
    check_audio_file(path)
    try:
        info = sf.info(source)
        samples, file_rate = sf.read(source, dtype="float32", always_2d=True)
    except (RuntimeError, sf.LibsndfileError, ValueError) as exc:  # libsndfile reports format errors as these
        raise AudioError(f"{source}: not a readable audio file ({exc})") from exc
    if info.frames > 0 and samples.shape[0] < info.frames:
        raise AudioError(f"{source}: truncated: header promises {info.frames} frames, file holds {samples.shape[0]}")
    if samples.shape[0] == 0:
        raise AudioError(f"{source}: contains no audio samples")
    check_finite(samples, source)
    mono = downmix(samples) if samples.shape[1] > 1 else samples[:, 0]
    audio = resample(mono, int(file_rate), sample_rate)
    if audio.size == 0:
        raise AudioError(f"{source}: too short: {samples.shape[0]} sample(s) at {file_rate} Hz leave no sample "
                         f"at {sample_rate} Hz")
    return audio


def read_audio(path: str | os.PathLike, sample_rate: int = 16000) -> np.ndarray:
    """Read an audio file as mono int16 PCM at ``sample_rate``.

    Returns
    -------
    np.ndarray [shape=(n,), int16]
    """
    return float_to_int16(read_audio_float(path, sample_rate))


def write_wav(path: str | os.PathLike, pcm: np.ndarray, sample_rate: int = 16000) -> None:
    """Write mono int16 PCM as a 16-bit WAV, atomically."""
    import soundfile as sf

    pcm = np.asarray(pcm)
    if pcm.dtype != np.int16:
        raise AudioError(f"{path}: write_wav expects int16 PCM, got {pcm.dtype}")
    with atomic_path(path) as tmp:
        sf.write(str(tmp), pcm, sample_rate, subtype="PCM_16", format="WAV")


def list_audio_files(folder: str | os.PathLike) -> list[Path]:
    """Sorted audio files (by extension) directly inside ``folder``."""
    return sorted(p for p in Path(folder).iterdir() if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS)


def audio_duration_s(path: str | os.PathLike) -> float:
    """Duration of an audio file in seconds, from its header (no decoding)."""
    import soundfile as sf

    try:
        info = sf.info(str(path))
    except (RuntimeError, sf.LibsndfileError, ValueError) as exc:
        raise AudioError(f"{path}: not a readable audio file ({exc})") from exc
    return info.frames / info.samplerate if info.samplerate > 0 else 0.0


def iter_audio_blocks(path: str | os.PathLike, sample_rate: int = 16000, block_samples: int = 160000):
    """Stream an audio file of any length as mono int16 blocks at ``sample_rate``, in bounded memory.

    Blocks are decoded with soundfile, downmixed, resampled with a streaming soxr (VHQ) when the
    file's rate differs, and rounded to int16 like :func:`read_audio` (for a file already at
    ``sample_rate`` the concatenated blocks equal ``read_audio(path)``).

    Yields
    ------
    np.ndarray [shape=(n,), int16], n about ``block_samples`` (the last one shorter)

    Raises
    ------
    AudioError
        missing, empty, truncated or unreadable file, NaN/inf samples; the message names the file.
    """
    import soundfile as sf

    source = str(path)
    check_audio_file(path)
    try:
        handle = sf.SoundFile(source)
    except (RuntimeError, sf.LibsndfileError, ValueError) as exc:
        raise AudioError(f"{source}: not a readable audio file ({exc})") from exc
    with handle:
        rate = int(handle.samplerate)
        resampler = None
        if rate != sample_rate:
            import soxr

            resampler = soxr.ResampleStream(rate, sample_rate, 1, dtype="float32", quality="VHQ")
        read_size = max(1, block_samples * rate // sample_rate)
        while True:
            try:
                samples = handle.read(read_size, dtype="float32", always_2d=True)
            except (RuntimeError, sf.LibsndfileError, ValueError) as exc:
                raise AudioError(f"{source}: decoding failed after {handle.tell()} frames ({exc})") from exc
            last = samples.shape[0] < read_size
            check_finite(samples, source)
            mono = downmix(samples) if samples.shape[1] > 1 else samples[:, 0]
            if resampler is not None:
                mono = resampler.resample_chunk(np.ascontiguousarray(mono, dtype=np.float32), last=last)
            if mono.size:
                yield float_to_int16(mono)
            if last:
                return
