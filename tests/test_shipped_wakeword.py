"""The shipped `computer` wake word: budgets, its recipe and detector, and its C export on a Cortex-M4."""

import json
from pathlib import Path

import pytest

from kws.model import KwsModel, shipped_models

REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / "kws" / "models" / "computer"


def test_shipped_wake_word_fits_and_carries_its_recipe_and_detector():
    from kws.detector import model_detector_config

    assert "computer" in shipped_models()
    assert sum(p.stat().st_size for p in SHIPPED.iterdir()) <= 100 * 1024
    model = KwsModel.load("computer")
    assert model.labels == ("_silence_", "_unknown_", "computer")
    assert model.frontend.clip_duration_ms == 1000
    metrics = json.loads((SHIPPED / "metrics.json").read_text())
    assert metrics["int8_weight_bytes"] <= 20 * 1024 and metrics["phrase"] == "computer"
    from kws.training.wakeword import load_wakeword_config, wakeword_config_from_dict

    # read back as a config (settings added since have their defaults, which leave training unchanged)
    recipe = wakeword_config_from_dict(json.loads((SHIPPED / "wakeword_config.json").read_text())["config"])
    committed = load_wakeword_config(REPO / "training" / "configs" / "computer.toml")
    assert recipe == committed  # the committed recipe is the one the shipped model was trained with
    assert "kokoro" in recipe.engines
    detector = model_detector_config(SHIPPED)
    assert dict(detector.thresholds_int8)["computer"] == metrics["threshold_int8"]
    assert detector.inference_period_ms == 200


def test_shipped_wake_word_exports_within_the_firmware_budgets(tmp_path):
    from kws.firmware_export import toolchain
    from kws.firmware_export.export import export_model

    if toolchain.missing_tools(toolchain.CORTEX_M4_TOOLS + toolchain.QEMU_TOOLS):
        pytest.skip("arm-none-eabi-gcc / qemu-system-arm not installed (apt-get install gcc-arm-none-eabi "
                    "libnewlib-arm-none-eabi qemu-system-arm)")
    report = export_model("computer", tmp_path / "computer_c", target="cortex-m4")
    m4 = report.cortex_m4
    assert 0 < m4["flash_bytes"] <= 32 * 1024 and 0 < m4["ram_bytes"] <= 12 * 1024
    assert m4["instructions_per_second_of_audio"] <= 10_000_000
