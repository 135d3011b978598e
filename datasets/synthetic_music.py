"""Synthetic music and tonal sounds: non-speech that a voice device must not answer.

Held-out music, birdsong and engine hum are what the `commands` model most often calls a command
(tonal sound with a pitch and onsets, unlike the broadband noise its `_silence_` is mostly made
of). A handful of music recordings cannot teach that; a generator can make endless variations:
melodies of harmonic notes (random timbre, vibrato, envelope), chords, percussion at a tempo,
beeps and sirens, and mixtures of them. Each clip is a deterministic function of its generator.
"""

from __future__ import annotations

import numpy as np

#: Kinds of sound the generator makes, in the order ``kind_index`` picks them.
KINDS = ("melody", "chords", "percussion", "band", "beeps", "siren")


def _note_frequency_hz(rng: np.random.Generator, low_hz: float, high_hz: float) -> float:
    """A note of the equal-tempered scale between ``low_hz`` and ``high_hz``."""
    low = int(np.ceil(12 * np.log2(low_hz / 440.0)))
    high = int(np.floor(12 * np.log2(high_hz / 440.0)))
    return 440.0 * 2.0 ** (rng.integers(low, high + 1) / 12.0)


def _harmonic_tone(rng: np.random.Generator, f0_hz: float, n_samples: int, rate_hz: int) -> np.ndarray:
    """One note: a harmonic series with a random spectral tilt, vibrato and attack/decay envelope."""
    t = np.arange(n_samples) / rate_hz
    vibrato = 1.0 + rng.uniform(0.0, 0.02) * np.sin(2 * np.pi * rng.uniform(4.0, 7.0) * t)
    phase = 2 * np.pi * f0_hz * np.cumsum(vibrato) / rate_hz
    n_harmonics = max(1, min(int(rng.integers(1, 13)), int(0.45 * rate_hz / f0_hz)))
    tilt = rng.uniform(0.3, 1.5)  # amplitude of harmonic k ~ k^-tilt: flute-like .. brass-like
    odd_only = rng.random() < 0.25  # clarinet-like timbre
    tone = np.zeros(n_samples)
    for k in range(1, n_harmonics + 1):
        if odd_only and k % 2 == 0:
            continue
        tone += k**-tilt * np.sin(k * phase + rng.uniform(0, 2 * np.pi))
    attack = max(1, int(rng.uniform(0.002, 0.08) * rate_hz))
    envelope = np.minimum(1.0, np.arange(n_samples) / attack)
    if rng.random() < 0.5:  # plucked / struck: decays; else sustained (bowed, blown)
        envelope *= np.exp(-t / rng.uniform(0.05, 0.6))
    release = min(n_samples, int(0.01 * rate_hz))
    envelope[n_samples - release:] *= np.linspace(1.0, 0.0, release)
    return tone * envelope


def _note_sequence(rng: np.random.Generator, n_samples: int, rate_hz: int, *, voices: int,
                   low_hz: float, high_hz: float, note_s: tuple[float, float]) -> np.ndarray:
    out = np.zeros(n_samples)
    start = -int(rng.uniform(0.0, note_s[1]) * rate_hz)  # the clip may begin mid-note
    while start < n_samples:
        length = int(rng.uniform(*note_s) * rate_hz)
        for _ in range(voices):
            note = _harmonic_tone(rng, _note_frequency_hz(rng, low_hz, high_hz), length, rate_hz)
            lo, hi = max(start, 0), min(start + length, n_samples)
            if hi > lo:
                out[lo:hi] += note[lo - start:hi - start]
        start += length
    return out


def _percussion(rng: np.random.Generator, n_samples: int, rate_hz: int) -> np.ndarray:
    """Drum hits at a tempo: low decaying sines (kicks) and decaying filtered noise (snares, hats)."""
    out = np.zeros(n_samples)
    beat = int(rate_hz * 60.0 / rng.uniform(70.0, 180.0) / rng.choice([1, 2]))
    position = -int(rng.integers(0, beat))
    while position < n_samples:
        hit_length = int(rng.uniform(0.05, 0.3) * rate_hz)
        t = np.arange(hit_length) / rate_hz
        decay = np.exp(-t / rng.uniform(0.01, 0.12))
        if rng.random() < 0.4:
            sweep = rng.uniform(40.0, 120.0) * (1.0 + 2.0 * np.exp(-t / 0.02))
            hit = np.sin(2 * np.pi * np.cumsum(sweep) / rate_hz) * decay
        else:
            noise = rng.standard_normal(hit_length)
            if rng.random() < 0.5:  # darker: a one-pole low-pass
                alpha = rng.uniform(0.2, 0.9)
                for i in range(1, hit_length):
                    noise[i] = alpha * noise[i - 1] + (1 - alpha) * noise[i]
            hit = noise * decay
        lo, hi = max(position, 0), min(position + hit_length, n_samples)
        if hi > lo:
            out[lo:hi] += rng.uniform(0.4, 1.0) * hit[lo - position:hi - position]
        position += beat
    return out


def _beeps(rng: np.random.Generator, n_samples: int, rate_hz: int) -> np.ndarray:
    """An appliance or alarm: a pure tone (or two) switched on and off."""
    t = np.arange(n_samples) / rate_hz
    tone = np.sin(2 * np.pi * rng.uniform(400.0, 3500.0) * t)
    if rng.random() < 0.5:
        tone += 0.5 * np.sin(2 * np.pi * rng.uniform(400.0, 3500.0) * t)
    period = rng.uniform(0.1, 0.8)
    gate = ((t + rng.uniform(0, period)) % period) < period * rng.uniform(0.2, 0.8)
    return tone * gate


def _siren(rng: np.random.Generator, n_samples: int, rate_hz: int) -> np.ndarray:
    """A swept tone: siren, whistle, engine whine or a bird-like chirp train."""
    t = np.arange(n_samples) / rate_hz
    centre = rng.uniform(300.0, 3000.0)
    sweep = centre * (1.0 + rng.uniform(0.05, 0.4) * np.sin(2 * np.pi * rng.uniform(0.3, 8.0) * t))
    return np.sin(2 * np.pi * np.cumsum(sweep) / rate_hz)


def synthetic_music(rng: np.random.Generator, n_samples: int, rate_hz: int, kind: str | None = None) -> np.ndarray:
    """``n_samples`` of synthetic non-speech (float64, peak 1; all zeros never), of ``kind`` or a random one."""
    kind = kind or KINDS[int(rng.integers(len(KINDS)))]
    if kind == "melody":
        audio = _note_sequence(rng, n_samples, rate_hz, voices=1, low_hz=110.0, high_hz=1800.0, note_s=(0.08, 0.5))
    elif kind == "chords":
        audio = _note_sequence(rng, n_samples, rate_hz, voices=int(rng.integers(2, 5)), low_hz=80.0,
                               high_hz=1000.0, note_s=(0.3, 1.2))
    elif kind == "percussion":
        audio = _percussion(rng, n_samples, rate_hz)
    elif kind == "band":
        audio = (_note_sequence(rng, n_samples, rate_hz, voices=1, low_hz=110.0, high_hz=1800.0, note_s=(0.1, 0.5))
                 + rng.uniform(0.3, 1.0) * _percussion(rng, n_samples, rate_hz)
                 + rng.uniform(0.0, 0.7) * _note_sequence(rng, n_samples, rate_hz, voices=1, low_hz=40.0,
                                                          high_hz=200.0, note_s=(0.2, 0.6)))
    elif kind == "beeps":
        audio = _beeps(rng, n_samples, rate_hz)
    elif kind == "siren":
        audio = _siren(rng, n_samples, rate_hz)
    else:
        raise ValueError(f"unknown kind of synthetic sound {kind!r}; choose from {', '.join(KINDS)}")
    peak = float(np.max(np.abs(audio)))
    if peak == 0.0:  # e.g. a beep gate closed for the whole clip: fall back to a steady tone
        audio, peak = np.sin(2 * np.pi * 440.0 * np.arange(n_samples) / rate_hz), 1.0
    return audio / peak
