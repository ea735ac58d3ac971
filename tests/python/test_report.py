"""`runner.py report`: a self-contained page whose plots hold data, rendered by headless Chromium."""
from __future__ import annotations

import re
import shutil
import subprocess

import pytest

import runner

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def test_report_is_self_contained_and_every_plot_has_data(tiny_42):
    assert runner.main(["report", "--run-dir", str(tiny_42)]) == 0
    page = (tiny_42 / "report.html").read_text()
    assert "<script" not in page and "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "No data for this section" not in page
    svgs = re.findall(r"<svg.*?</svg>", page, flags=re.S)
    assert len(svgs) >= 3
    for svg in svgs:
        assert "<polyline" in svg or "<rect" in svg, svg[:200]
    assert "5B.T1" in page and "America/New_York" in page
    for title in ("Fraud and the bank&#x27;s view", "Case delays", "Campaigns"):
        assert f"<h2>{title}</h2>" in page, title
    assert "CARD_TESTING" in page and "chargeback after dispute" in page


def test_report_of_an_incomplete_run_exits_2(runs_root, capsys):
    half = runs_root / "half-run"
    half.mkdir()
    assert runner.main(["report", "--run-dir", str(half)]) == 2
    assert "incomplete" in capsys.readouterr().err


@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (apt-get install chromium)")
def test_report_renders_in_headless_chromium(tiny_42, tmp_path):
    assert runner.main(["report", "--run-dir", str(tiny_42)]) == 0
    page = tiny_42 / "report.html"
    shot = tmp_path / "report.png"
    common = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--allow-file-access-from-files"]
    subprocess.run([*common, f"--screenshot={shot}", "--window-size=1200,2400", page.as_uri()],
                   check=True, capture_output=True, timeout=120)
    assert shot.stat().st_size > 20_000
    dom = subprocess.run([*common, "--dump-dom", page.as_uri()], check=True, capture_output=True,
                         text=True, timeout=120).stdout
    assert dom.count("<svg") >= 3 and "Gateboard" in dom
