"""`runner.py first-model` on the tiny run: the user's first model and the ids-alone models."""
from __future__ import annotations

import json

import runner
from python_kernels.run import first_model


def test_first_model_writes_its_figures(tiny_42, capsys):
    assert runner.main(["first-model", "--run-dir", str(tiny_42)]) == 0
    result = json.loads((tiny_42 / "analysis" / "first_model.json").read_text())
    assert result["test_fraud"] >= 20 and result["train_flows"] > result["test_flows"] > 0
    assert 0.5 < result["auc"] <= 1.0 and 0.0 < result["average_precision"] <= 1.0
    assert set(result["ids"]) == set(first_model.IDS)
    assert "FRAUD AUC" in capsys.readouterr().err  # progress and results go to stderr


def test_first_model_refuses_a_missing_run(runs_root, capsys):
    assert runner.main(["first-model", "--run-dir", str(runs_root / "none")]) == 2
    assert "no published run" in capsys.readouterr().err
