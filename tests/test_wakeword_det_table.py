"""scripts/wakeword_det_table.py: FRR read off the DET curve at each false-accept budget."""

import importlib.util
import json
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "wakeword_det_table.py"
spec = importlib.util.spec_from_file_location("wakeword_det_table", SCRIPT)
table = importlib.util.module_from_spec(spec)
spec.loader.exec_module(table)

# (FA/h, FRR, threshold) rows as kws eval-stream writes them: a higher threshold, fewer accepts of both kinds
CURVE = [[40.0, 0.05, 0], [12.0, 0.10, 40], [4.0, 0.30, 80], [0.0, 0.60, 120]]


def test_frr_at_takes_the_best_threshold_within_each_budget():
    assert table.frr_at(CURVE, 0.5) == 0.60
    assert table.frr_at(CURVE, 4.0) == 0.30
    assert table.frr_at(CURVE, 16.0) == 0.10
    assert table.frr_at(CURVE, 100.0) == 0.05
    assert table.frr_at([[8.0, 0.2, 0]], 4.0) is None  # no threshold gets that low


def test_table_has_a_row_per_condition_found(tmp_path, capsys):
    folder = tmp_path / "alexa" / "eval_stream"
    folder.mkdir(parents=True)
    for name in ("clean", "10"):
        (folder / f"{name}.json").write_text(json.dumps({"curve": CURVE, "hours_negative": 0.25}))
    assert table.main([str(folder)]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| alexa")]
    assert rows == ["| alexa | clean (clip alone) | 0.600 | 0.300 | 0.300 | 0.100 | 0.100 | 0.250 |",
                    "| alexa | mixed at 10 dB SNR | 0.600 | 0.300 | 0.300 | 0.100 | 0.100 | 0.250 |"]
    assert table.main([]) == 2
