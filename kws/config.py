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

# Fixed-point formats of the front end (kws.frontend.tables uses these; the C mirrors them).
PCM_FRAC_BITS = 15
WINDOW_FRAC_BITS = 15
MEL_WEIGHT_FRAC_BITS = 15
DCT_FRAC_BITS = 15
LOG2_FRAC_BITS = 16
TWIDDLE_FRAC_BITS = 30
FFT_PEAK_BITS = 29
"""block_norm_bits = FFT_PEAK_BITS - log2(fft_size): |2 X[k]| of a normalised frame <= 2**30."""
MEL_SCALE_LOG2 = PCM_FRAC_BITS + WINDOW_FRAC_BITS + 1 + MEL_WEIGHT_FRAC_BITS
"""integer mel = float mel * 2**(MEL_SCALE_LOG2 + e), e the frame's block shift."""
SAMPLE_RATE_RANGE_HZ = (1000, 192000)


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


def frontend_worst_cases(config: FrontendConfig) -> dict[str, int]:
    """Worst-case magnitudes of every integer intermediate of the front end, over all int16 input.

    Pure integer bounds from the settings alone (no tables); :func:`validate_frontend` checks
    them against the widths the Python reference and the C use (int32 FFT data, int64 products,
    mel sums and floor, int32 log2). ``e`` is the block shift of a frame: ``block_norm_bits -
    bit_length(peak)``, largest (``block_norm_bits``) for digital silence, whose peak is 0, and
    smallest for a full-scale frame (peak ``32768 * 32767 < 2**30``).
    """
    fft_log2 = config.fft_size.bit_length() - 1
    block_norm_bits = FFT_PEAK_BITS - fft_log2
    e_max = block_norm_bits
    e_min = block_norm_bits - (32768 * 32767).bit_length()
    # Rounding slack of the fixed-point FFT: each stage at most doubles the error and adds one
    # unit per component, the split adds one more; 16 * fft_size is a loose bound.
    slack = 16 * config.fft_size
    # normalised frame |x| <= 2**b: |Z| components <= sum of |re| + |im| <= window * 2**b
    fft_data = config.window_samples * (1 << block_norm_bits) + slack
    spectrum = 2 * config.window_samples * (1 << block_norm_bits) + slack  # |re|, |im| of 2 X[k]
    magnitude = 2 * spectrum  # >= sqrt(re**2 + im**2)
    mel = (config.fft_size // 2 + 1) * ((1 << MEL_WEIGHT_FRAC_BITS) - 1) * magnitude
    floor_shift_min = MEL_SCALE_LOG2 + e_min + config.log_floor_log2
    floor_shift_max = MEL_SCALE_LOG2 + e_max + config.log_floor_log2
    log2_max = (63 + 1) << LOG2_FRAC_BITS  # log2_q16 of a positive int64
    log_value = max(log2_max, (MEL_SCALE_LOG2 + e_max) << LOG2_FRAC_BITS)
    return {
        "block_norm_bits": block_norm_bits,
        "e_min": e_min,
        "e_max": e_max,
        "fft_data": fft_data,
        "fft_product_sum": 2 * fft_data * (1 << TWIDDLE_FRAC_BITS),
        "spectrum": spectrum,
        "energy": 2 * spectrum * spectrum,
        "mel": mel,
        "floor_shift_min": floor_shift_min,
        "floor_shift_max": floor_shift_max,
        "log_floor_plus_mel": (1 << max(floor_shift_max, 0)) + mel,
        "log_value": log_value,
        "dct_accumulator": config.n_mel * (1 << DCT_FRAC_BITS) * log_value,
        "clip_samples": config.clip_samples,
    }


def validate_frontend(config: FrontendConfig) -> None:
    """Raise :class:`ConfigError` naming the first inconsistent setting.

    Besides the ranges of each field, every integer intermediate's worst case
    (:func:`frontend_worst_cases`) must fit the width the reference and the C use, so a config
    that validates never overflows, whatever the int16 input (silence and full scale included).
    """
    def need(ok: bool, message: str) -> None:
        if not ok:
            raise ConfigError(f"FrontendConfig: {message}")

    low_rate, high_rate = SAMPLE_RATE_RANGE_HZ
    need(low_rate <= config.sample_rate_hz <= high_rate,
         f"sample_rate_hz must be in {low_rate}..{high_rate}, got {config.sample_rate_hz}")
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
    need(config.clip_samples < 2**31, "clip_duration_ms too long: clip samples must fit int32")

    w = frontend_worst_cases(config)
    need(w["fft_data"] < 2**30 and w["spectrum"] < 2**31,
         f"fft_size {config.fft_size} leaves no int32 headroom for the FFT")
    need(w["fft_product_sum"] < 2**63 and w["energy"] < 2**63, "FFT products overflow int64")
    need(w["floor_shift_min"] >= 0,
         f"log_floor_log2 {config.log_floor_log2} too small: on a full-scale frame the log floor "
         f"2**(mel_scale_log2 + e + log_floor_log2) needs a right shift of {-w['floor_shift_min']} bits; "
         f"with fft_size {config.fft_size} use log_floor_log2 >= {config.log_floor_log2 - w['floor_shift_min']}")
    headroom = 62 - w["floor_shift_max"]
    need(w["log_floor_plus_mel"] < 2**63 and headroom >= 0,
         f"log_floor_log2 {config.log_floor_log2} too large: on digital silence (block shift "
         f"e = {w['e_max']}) the log floor needs a {w['floor_shift_max']}-bit shift, beyond int64; "
         f"with fft_size {config.fft_size} use log_floor_log2 <= {config.log_floor_log2 + min(headroom, -1)}")
    need(w["mel"] < 2**62, "mel energies overflow int64")
    need(w["log_value"] < 2**31 and w["dct_accumulator"] < 2**63, "log-mel or DCT accumulator overflows")


def config_hash(config: Any, *, omit: tuple[str, ...] = ()) -> str:
    """Stable 12-hex-digit hash of a config dataclass (key order and float repr independent).

    ``omit``: fields left out, e.g. a setting added later that is off, so keys made before it stay valid."""
    settings = {k: v for k, v in dataclasses.asdict(config).items() if k not in omit}
    payload = json.dumps({"type": type(config).__name__, **settings}, sort_keys=True)
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
