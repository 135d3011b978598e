"""The generated C front end == the Python reference, bit for bit (host gcc, plain and ASan+UBSan)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from kws.config import FrontendConfig, frontend_from_dict
from kws.errors import BuildError
from kws.firmware_export.cgen import c_array
from kws.firmware_export.frontend_c import emit_frontend, frontend_constants
from kws.firmware_export.hostbuild import C_DIR, compile_host, config_header, run_host, write_frontend_sources
from kws.frontend import compute_mfcc, quantize_features

CONFIG = FrontendConfig()
GOLDEN = sorted((Path(__file__).parent / "golden" / "frontend").glob("*.json"))
CHUNKS = ["1", "7", "319", "320", "321", "480", "4000", "rand:1:50", "rand:2:2000", "5,1,700,33"]

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc not installed")


def build_driver(config: FrontendConfig, folder: Path, *, sanitize: bool, optimize: str = "-O2") -> Path:
    sources = write_frontend_sources(config, folder)
    main = C_DIR / "test_frontend_main.c"
    c_files = [p for p in sources if p.suffix == ".c"] + [main]
    name = "driver_san" if sanitize else "driver"
    return compile_host(c_files, folder / name, sanitize=sanitize, optimize=optimize)


@pytest.fixture(scope="module")
def drivers(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("frontend_c")
    return {"plain": build_driver(CONFIG, folder, sanitize=False),
            "sanitized": build_driver(CONFIG, folder, sanitize=True, optimize="-O1")}


def run_c(driver: Path, mode: str, pcm: np.ndarray, chunks: str, work: Path,
          config: FrontendConfig = CONFIG) -> np.ndarray:
    """Run the driver on ``pcm``; returns [frames, n_mfcc] int16 (mode mfcc) or int8 features."""
    pcm_path, out_path = work / "in.raw", work / "out.raw"
    np.asarray(pcm, np.int16).tofile(pcm_path)
    run_host(driver, [mode, pcm_path, out_path, chunks])
    dtype = np.int16 if mode == "mfcc" else np.int8
    return np.fromfile(out_path, dtype).reshape(-1, config.n_mfcc)


def assert_same(got: np.ndarray, want: np.ndarray, what: str) -> None:
    assert got.shape == want.shape, f"{what}: C gave {got.shape[0]} frames, Python {want.shape[0]}"
    bad = np.argwhere(got != want)
    if bad.size:
        frame, coef = (int(v) for v in bad[0])
        raise AssertionError(f"{what}: {len(bad)} values differ; first at frame {frame} coefficient {coef}: "
                             f"C {int(got[frame, coef])} != Python {int(want[frame, coef])}")


def check_all_modes(drivers, pcm: np.ndarray, name: str, work: Path, chunk_list=CHUNKS,
                    config: FrontendConfig = CONFIG) -> None:
    mfcc = compute_mfcc(pcm, config)
    features = quantize_features(mfcc, config)
    for kind, driver in drivers.items():
        assert_same(run_c(driver, "batch", pcm, "1", work, config), features, f"{name} [{kind} batch]")
        for chunks in chunk_list:
            assert_same(run_c(driver, "mfcc", pcm, chunks, work, config), mfcc, f"{name} [{kind} mfcc chunks {chunks}]")
            assert_same(run_c(driver, "features", pcm, chunks, work, config), features,
                        f"{name} [{kind} features chunks {chunks}]")


@pytest.mark.parametrize("path", GOLDEN, ids=[p.stem for p in GOLDEN])
def test_golden_vectors(drivers, path, tmp_path):
    vector = json.loads(path.read_text())
    assert frontend_from_dict(vector["frontend"]) == CONFIG
    pcm = np.asarray(vector["input_pcm_int16"], np.int16)
    mfcc = np.asarray(vector["expected_mfcc_int16"], np.int16).reshape(-1, CONFIG.n_mfcc)
    features = np.asarray(vector["expected_features_int8"], np.int8).reshape(-1, CONFIG.n_mfcc)
    for kind, driver in drivers.items():
        for chunks in ("1", "320", "rand:7:900"):
            assert_same(run_c(driver, "mfcc", pcm, chunks, tmp_path), mfcc, f"golden {path.stem} [{kind} {chunks}]")
            assert_same(run_c(driver, "features", pcm, chunks, tmp_path), features,
                        f"golden {path.stem} [{kind} features {chunks}]")
        assert_same(run_c(driver, "batch", pcm, "1", tmp_path), features, f"golden {path.stem} [{kind} batch]")


def adversarial_inputs(rng: np.random.Generator, speech: np.ndarray) -> dict[str, np.ndarray]:
    n = 16000
    t = np.arange(n)
    impulses = np.zeros(n, np.int16)
    impulses[::997] = 32767
    impulses[500::1499] = -32768
    clipped = np.clip(speech.astype(np.int64) * 40, -32768, 32767).astype(np.int16)
    return {
        "square_full_scale_1k": np.where((t // 8) % 2 == 0, 32767, -32768).astype(np.int16),
        "square_full_scale_37": np.where((t // 37) % 2 == 0, 32767, -32768).astype(np.int16),
        "dc_minus_32768": np.full(n, -32768, np.int16),
        "dc_plus_32767": np.full(n, 32767, np.int16),
        "nyquist_tone": np.where(t % 2 == 0, 32767, -32768).astype(np.int16),
        "impulses": impulses,
        "single_lsb_impulse": np.eye(1, n, 700, dtype=np.int16)[0],
        "clipped_speech": clipped,
        "random_noise_full_scale": rng.integers(-32768, 32768, n, dtype=np.int16),
        "random_noise_tiny": rng.integers(-2, 3, n, dtype=np.int16),
        "digital_silence": np.zeros(n, np.int16),
        "silence_then_full_scale": np.concatenate([np.zeros(n // 2, np.int16), np.full(n // 2, -32768, np.int16)]),
    }


def test_adversarial_inputs_and_chunkings(drivers, tmp_path):
    from kws.audio import read_audio
    from kws.commands.features import example_clip_path

    speech = read_audio(example_clip_path(), CONFIG.sample_rate_hz)
    for name, pcm in adversarial_inputs(np.random.default_rng(5), speech).items():
        check_all_modes(drivers, pcm, name, tmp_path)


def test_short_inputs(drivers, tmp_path):
    rng = np.random.default_rng(9)
    for n in (0, 1, CONFIG.window_samples - 1, CONFIG.window_samples, CONFIG.window_samples + CONFIG.hop_samples):
        pcm = rng.integers(-30000, 30000, n, dtype=np.int16)
        check_all_modes(drivers, pcm, f"{n} samples", tmp_path, ["1", "321"])


def test_real_clips(drivers, speech_commands_dir, tmp_path):
    from kws.frontend.fidelity import load_clips

    clips, _ = load_clips(speech_commands_dir, 240, CONFIG)
    assert len(clips) >= 200
    pcm = np.concatenate(clips)  # one long stream: few process launches
    mfcc = compute_mfcc(pcm, CONFIG)
    features = quantize_features(mfcc, CONFIG)
    plain, sanitized = drivers["plain"], drivers["sanitized"]
    what = f"{len(clips)} Speech Commands clips"
    assert_same(run_c(plain, "batch", pcm, "1", tmp_path), features, f"{what} [batch]")
    for chunks in ("1", "321", "4000", "rand:11:3000"):
        assert_same(run_c(plain, "features", pcm, chunks, tmp_path), features, f"{what} [features {chunks}]")
    assert_same(run_c(plain, "mfcc", pcm, "rand:12:700", tmp_path), mfcc, f"{what} [mfcc]")
    assert_same(run_c(sanitized, "mfcc", pcm, "480", tmp_path), mfcc, f"{what} [sanitized mfcc]")


def test_error_returns(drivers):
    for driver in drivers.values():
        result = run_host(driver, ["errors", "-", "-", "-"])
        assert "errors: ok" in result.stdout


def test_isqrt_is_exact(tmp_path):
    binary = compile_host([C_DIR / "test_isqrt_main.c"], tmp_path / "isqrt", sanitize=True)
    assert "0 wrong" in run_host(binary).stdout


def test_constants_and_files():
    constants = frontend_constants(CONFIG)
    for name in ("KWS_SAMPLE_RATE_HZ", "KWS_WINDOW_SAMPLES", "KWS_HOP_SAMPLES", "KWS_FFT_SIZE", "KWS_N_MEL",
                 "KWS_N_MFCC", "KWS_FRAMES_PER_CLIP", "KWS_CLIP_SAMPLES", "KWS_FEATURE_ZERO_POINT",
                 "KWS_FEATURE_SHIFT_BITS", "KWS_MFCC_FRAC_BITS", "KWS_LOG_FLOOR_LOG2"):
        assert isinstance(constants[name], int), name
    assert constants["KWS_FRAMES_PER_CLIP"] == 49 and constants["KWS_CLIP_SAMPLES"] == 16000
    files = emit_frontend(CONFIG)
    assert set(files) == {"kws_frontend.h", "kws_frontend.c"}
    for body in files.values():
        for include in ("kws_config.h", "kws_fixedpoint.h", "kws_status.h"):
            assert f'#include "{include}"' in body or "kws_frontend.h" in body
        code = re.sub(r"/\*.*?\*/", "", body, flags=re.S)
        assert not re.search(r"\b(float|double|malloc|free)\b", code)
    # every table is the c_array of the tables() array
    from kws.frontend import tables

    # the periodic Hann window is symmetric (w[n] == w[N - n]): only w[0 .. N/2] is stored
    window = tables(CONFIG).window_q15
    assert np.array_equal(window[1:], window[1:][::-1])
    assert c_array("kws_frontend_window_q15", window[: window.size // 2 + 1], "int16_t") in files["kws_frontend.c"]
    assert "#define KWS_FE_HALF_WINDOW 1" in files["kws_frontend.c"]
    # narrow index tables, log2 table as uint16 without its implicit last entry 2**16
    assert c_array("kws_frontend_fft_bitrev", tables(CONFIG).fft_bitrev, "uint8_t") in files["kws_frontend.c"]
    assert c_array("kws_frontend_log2_table_q16", tables(CONFIG).log2_table_q16[:-1], "uint16_t") in files["kws_frontend.c"]


def test_stale_config_header_is_a_compile_error(tmp_path):
    write_frontend_sources(CONFIG, tmp_path)
    (tmp_path / "kws_config.h").write_text(config_header(FrontendConfig(n_mfcc=13)))
    with pytest.raises(BuildError, match="does not match"):
        compile_host([tmp_path / "kws_frontend.c"], tmp_path / "x.o", extra_flags=["-c"])


M4_FORBIDDEN = re.compile(r"__aeabi_[fd]\w*|__aeabi_u?ldivmod|\bv(mov|add|sub|mul|div|ldr|str|cvt|cmp|fma|neg|abs|sqrt)"
                          r"\w*(\.\w+)*\s+[sd]\d+")


@pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="arm-none-eabi-gcc not installed")
def test_cortex_m4_build_is_integer_only(tmp_path):
    write_frontend_sources(CONFIG, tmp_path)
    obj = tmp_path / "kws_frontend.o"
    subprocess.run(["arm-none-eabi-gcc", "-mcpu=cortex-m4", "-mthumb", "-Os", "-std=c99", "-Wall", "-Wextra",
                    "-Werror", "-c", str(tmp_path / "kws_frontend.c"), "-o", str(obj)], check=True,
                   capture_output=True)
    disassembly = subprocess.run(["arm-none-eabi-objdump", "-dr", str(obj)], check=True, capture_output=True,
                                 text=True).stdout
    found = sorted({m.group(0) for m in M4_FORBIDDEN.finditer(disassembly)})
    assert not found, f"floating point or 64-bit division in the Cortex-M4 object: {found}"
    assert "kws_frontend_compute_mfcc" in disassembly


@pytest.mark.parametrize("config", [FrontendConfig(upper_hz=7600.0), FrontendConfig(n_mel=64), FrontendConfig(n_mel=20)],
                         ids=["upper_7600", "64_mel", "20_mel"])
@pytest.mark.parametrize("paired", [True, False], ids=["paired_mel", "band_table"])
def test_mel_weight_layouts_are_bit_exact(config, paired, tmp_path, monkeypatch):
    """The C filterbank stores one weight per bin (half the flash) when adjacent triangles sum to one,
    else the reference's band-by-band table; both must give the Python MFCC exactly."""
    from kws.audio import read_audio
    from kws.commands.features import example_clip_path
    from kws.firmware_export import frontend_c
    from kws.frontend import tables

    t = tables(config)
    paired_weights = frontend_c.paired_mel_weights_q15(t)
    assert paired_weights is not None and paired_weights.size < t.mel_weights_q15.size * 0.6
    if not paired:
        monkeypatch.setattr(frontend_c, "paired_mel_weights_q15", lambda tables: None)
    driver = build_driver(config, tmp_path, sanitize=True, optimize="-O1")
    source = (tmp_path / "kws_frontend.c").read_text()
    assert f"#define KWS_FE_PAIRED_MEL {int(paired)}" in source
    speech = read_audio(example_clip_path(), config.sample_rate_hz)
    noise = np.random.default_rng(3).integers(-20000, 20000, 8000, dtype=np.int16)
    pcm = np.concatenate([speech, noise])
    assert_same(run_c(driver, "mfcc", pcm, "rand:1:700", tmp_path, config), compute_mfcc(pcm, config), f"{config}")
