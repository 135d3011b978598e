"""Typed settings for every runtime stage, and their JSON form with a stable hash.

The same ``FrontendConfig`` drives the Python reference, training features and
the generated C; a model records the hash of the config it was trained with,
and :func:`check_frontend_match` refuses a model whose hash differs.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import typing
from typing import Any, TypeVar

from kws.errors import ConfigError, ModelError

T = TypeVar("T")


@dataclasses.dataclass(frozen=True, kw_only=True)
class FrontendConfig:
    """Fixed-point MFCC front end. Defaults are the MLPerf Tiny keyword-spotting features."""

    sample_rate_hz: int = 16000
    """Input sample rate of the int16 PCM, in Hz."""
    window_ms: int = 30
    """Analysis window length in milliseconds (480 samples at 16 kHz)."""
    hop_ms: int = 20
    """Step between frames in milliseconds (320 samples at 16 kHz)."""
    fft_size: int = 512
    """FFT length in samples, a power of two >= the window length; the frame is zero-padded."""
    n_mel: int = 40
    """Number of HTK mel bands."""
    lower_hz: float = 20.0
    """Lower edge of the first mel band, in Hz."""
    upper_hz: float = 4000.0
    """Upper edge of the last mel band, in Hz."""
    n_mfcc: int = 10
    """Number of DCT-II coefficients kept (c0 included)."""
    log_floor_log2: int = -20
    """The log is ln(mel + 2**log_floor_log2), mel in units of a full-scale float signal."""
    mfcc_frac_bits: int = 7
    """Fractional bits of the int16 MFCC (Q8.7: value = mfcc_q / 2**7, range +-256)."""
    feature_shift_bits: int = 6
    """int8 feature = saturate(round(mfcc_q >> feature_shift_bits) + feature_zero_point)."""
    feature_zero_point: int = 64
    """int8 code of MFCC value 0. With the defaults one int8 step is 0.5 and the codes cover
    MFCC values -96 .. +31.5: c0 of digital silence (about -88) down to full-scale speech."""
    clip_duration_ms: int = 1000
    """Length of one classification window in milliseconds (49 frames by default)."""

    def __post_init__(self) -> None:
        validate_frontend(self)

    # Derived sizes, in samples / frames.
    @property
    def window_samples(self) -> int:
        return self.sample_rate_hz * self.window_ms // 1000

    @property
    def hop_samples(self) -> int:
        return self.sample_rate_hz * self.hop_ms // 1000

    @property
    def clip_samples(self) -> int:
        return self.sample_rate_hz * self.clip_duration_ms // 1000

    @property
    def frames_per_clip(self) -> int:
        return n_frames(self, self.clip_samples)

    @property
    def feature_scale(self) -> float:
        """Real MFCC value of one int8 step (the model's input scale)."""
        return 2.0 ** (self.feature_shift_bits - self.mfcc_frac_bits)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def config_hash(self) -> str:
        return config_hash(self)


def n_frames(config: FrontendConfig, n_samples: int) -> int:
    """Number of complete frames in ``n_samples`` samples (no padding)."""
    if n_samples < config.window_samples:
        return 0
    return 1 + (n_samples - config.window_samples) // config.hop_samples


def validate_frontend(config: FrontendConfig) -> None:
    """Raise :class:`ConfigError` naming the first inconsistent setting."""
    def need(ok: bool, message: str) -> None:
        if not ok:
            raise ConfigError(f"FrontendConfig: {message}")

    need(config.sample_rate_hz > 0, "sample_rate_hz must be positive")
    need(config.sample_rate_hz * config.window_ms % 1000 == 0, "window_ms must give a whole number of samples")
    need(config.sample_rate_hz * config.hop_ms % 1000 == 0, "hop_ms must give a whole number of samples")
    need(0 < config.hop_ms <= config.window_ms, "need 0 < hop_ms <= window_ms")
    fft = config.fft_size
    need(fft >= 8 and fft & (fft - 1) == 0, f"fft_size must be a power of two >= 8, got {fft}")
    need(fft <= 4096, f"fft_size must be <= 4096 (fixed-point headroom), got {fft}")
    need(config.window_samples <= fft, f"window ({config.window_samples} samples) longer than fft_size {fft}")
    need(0 <= config.lower_hz < config.upper_hz <= config.sample_rate_hz / 2,
         "need 0 <= lower_hz < upper_hz <= sample_rate_hz / 2")
    need(1 <= config.n_mel <= 128, "n_mel must be in 1..128")
    need(1 <= config.n_mfcc <= config.n_mel, "n_mfcc must be in 1..n_mel")
    need(-40 <= config.log_floor_log2 <= 0, "log_floor_log2 must be in -40..0")
    need(0 <= config.mfcc_frac_bits <= 8, "mfcc_frac_bits must be in 0..8 (int16 range)")
    need(0 <= config.feature_shift_bits <= 15, "feature_shift_bits must be in 0..15")
    need(-128 <= config.feature_zero_point <= 127, "feature_zero_point must fit int8")
    need(config.clip_duration_ms >= config.window_ms, "clip_duration_ms shorter than one window")


def config_hash(config: Any) -> str:
    """Stable 12-hex-digit hash of a config dataclass (key order and float repr independent)."""
    payload = json.dumps({"type": type(config).__name__, **dataclasses.asdict(config)}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:12]


def _check_type(name: str, value: Any, annotation: Any, where: str) -> Any:
    hint = annotation if not isinstance(annotation, str) else eval(annotation, vars(typing))  # noqa: S307 - our own annotations
    origin = typing.get_origin(hint)
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint in (int, float, str, bool):
        if isinstance(value, bool) and hint is not bool:
            raise ConfigError(f"{where}: '{name}' must be {hint.__name__}, got {value!r}")
        if not isinstance(value, hint):
            raise ConfigError(f"{where}: '{name}' must be {hint.__name__}, got {type(value).__name__} {value!r}")
        return value
    if origin in (tuple, list):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: '{name}' must be a list, got {value!r}")
        args = typing.get_args(hint)
        item_hint = args[0] if args else Any
        items = [v if item_hint is Any else _check_type(f"{name}[]", v, item_hint, where) for v in value]
        return tuple(items) if origin is tuple else items
    return value


def from_dict(cls: type[T], data: dict[str, Any], *, where: str = "config") -> T:
    """Build a config dataclass from a dict, rejecting unknown keys and wrong types by name."""
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a table of settings, got {type(data).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(repr(k) for k in unknown)} for {cls.__name__}")
    hints = typing.get_type_hints(cls)
    values = {name: _check_type(name, value, hints[name], where) for name, value in data.items()}
    return cls(**values)


def frontend_from_dict(data: dict[str, Any], *, where: str = "frontend") -> FrontendConfig:
    return from_dict(FrontendConfig, data, where=where)


def describe_differences(expected: Any, actual: Any) -> list[str]:
    """Human-readable ``name: a != b`` lines for two configs of the same type."""
    a, b = dataclasses.asdict(expected), dataclasses.asdict(actual)
    return [f"{k}: {a.get(k)!r} != {b.get(k)!r}" for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]


def check_frontend_match(model_frontend: FrontendConfig, running: FrontendConfig, *, model_name: str) -> None:
    """Refuse a model trained on different features, saying which settings differ."""
    if config_hash(model_frontend) != config_hash(running):
        diffs = "; ".join(describe_differences(model_frontend, running))
        raise ModelError(
            f"{model_name}: front-end mismatch (model hash {config_hash(model_frontend)}, "
            f"running {config_hash(running)}): {diffs}"
        )
