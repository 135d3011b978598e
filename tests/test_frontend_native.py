"""The native (gcc-built, ctypes) front end == kws.frontend.compute_features."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from kws.config import FrontendConfig
from kws.errors import BuildError, KwsError
from kws.frontend import compute_features, compute_features_many
from kws.frontend.native import NativeFrontend, build_library

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc not installed")
CONFIG = FrontendConfig()


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("native_cache")


@pytest.fixture(scope="module")
def native(cache):
    return NativeFrontend(CONFIG, cache_dir=cache)


def test_equal_on_real_clips(native, speech_commands_dir):
    from kws.frontend.fidelity import load_clips

    clips, _ = load_clips(speech_commands_dir, 200, CONFIG)
    for i, (got, want) in enumerate(zip(native.features_many(clips), compute_features_many(clips, CONFIG))):
        assert np.array_equal(got, want), f"clip {i}: native features differ at frames {np.argwhere(got != want)[:3]}"


def test_equal_on_noise_and_edge_lengths(native):
    rng = np.random.default_rng(3)
    for n in (0, 1, 479, 480, 800, 16000, 48017):
        pcm = rng.integers(-32768, 32768, n, dtype=np.int16)
        got, want = native.features(pcm), compute_features(pcm)
        assert got.dtype == np.int8 and got.shape == want.shape and np.array_equal(got, want), f"{n} samples"
    strided = rng.integers(-32768, 32768, 40000, dtype=np.int16)[::2]  # non-contiguous input
    assert np.array_equal(native.features(strided), compute_features(strided))


def test_cache_is_reused_and_a_given_library_loads(native, cache):
    assert build_library(CONFIG, cache) == native.path
    again = NativeFrontend(CONFIG, library=native.path)
    pcm = np.arange(-8000, 8000, dtype=np.int16) * 2
    assert np.array_equal(again.features(pcm), compute_features(pcm))
    with pytest.raises(BuildError, match="built for front end"):
        NativeFrontend(FrontendConfig(n_mfcc=13), library=native.path)


def test_rejects_bad_input(native):
    with pytest.raises(KwsError, match="int16"):
        native.features(np.zeros(1000, np.float32))


def test_missing_gcc_names_the_package(monkeypatch, tmp_path):
    monkeypatch.setenv("CC", "no-such-compiler-kws")
    with pytest.raises(BuildError, match="apt-get install gcc"):
        build_library(FrontendConfig(n_mfcc=12), tmp_path)


def test_bench_prints_native_speed(speech_commands_dir, capsys):
    from kws.cli import main

    assert main(["bench", "frontend", "--data", str(speech_commands_dir / "yes"), "--limit", "6"]) == 0
    out = capsys.readouterr().out
    assert "native C front end (gcc -O3 -march=native)" in out and "native / numpy speed ratio" in out
