"""`runner.py report`: a self-contained, deterministic page whose every plot has visible marks when
headless Chromium draws it."""
from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import tempfile

import duckdb
import numpy as np
import pytest
from PIL import Image

import runner
from python_kernels.run import report

CHROMIUM = shutil.which("chromium")  # Debian's package; .ci/run installs it
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--force-device-scale-factor=1"]
WIDTH = 1200
# The plots' marks are the only chromatic pixels (axes, text and grid are grey): an empty plot
# area has none, the thinnest drawn plot (one line across the axes) has thousands.
MIN_MARK_PIXELS = 300
# Written into a copy of the page (the report itself has no scripts): each figure's plot areas
# in page pixels, and the page's height for the screenshot.
PROBE = """<script>
const boxes = {height: document.documentElement.scrollHeight, plots: {}};
for (const fig of document.querySelectorAll("figure")) {
  boxes.plots[fig.id] = [...fig.querySelectorAll('[id$="-plotarea"]')].map(e => {
    const r = e.getBoundingClientRect();
    return [r.left, r.top + scrollY, r.right, r.bottom + scrollY];
  });
}
document.body.insertAdjacentHTML("beforeend", "<pre id=boxes>" + JSON.stringify(boxes) + "</pre>");
</script>"""


@pytest.fixture(scope="module")
def page(tiny_42):
    assert runner.main(["report", "--run-dir", str(tiny_42)]) == 0
    return tiny_42 / "report.html"


def _figures(text: str) -> dict[str, str]:
    return dict(re.findall(r'<figure id="([^"]+)">(.*?)</figure>', text, flags=re.S))


def _mark_extent(figure: str, fid: str) -> tuple[float, float]:
    """Width and height of the box around every path drawn by the figure's data artists."""
    xs, ys = [], []
    for group in re.findall(rf'<g id="{re.escape(fid)}-mark-\d+">(.*?)</g>', figure, flags=re.S):
        for d in re.findall(r'<path d="([^"]*)"', group):
            coords = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", d)]
            xs += coords[0::2]
            ys += coords[1::2]
    return (max(xs) - min(xs), max(ys) - min(ys)) if xs else (0.0, 0.0)


def test_report_is_self_contained_and_every_plot_has_marks(page):
    text = page.read_text()
    for loader in (r"<script", r"<link", r"@import", r"@font-face", r"url\((?!#)", r"\bsrc=",
                   r"href=\"(?!#)"):
        assert not re.search(loader, text), f"the page loads something: {loader}"
    assert "No data for this section" not in text
    figures = _figures(text)
    assert len(figures) >= 10 and len(figures) == text.count("<svg")
    for fid, figure in figures.items():
        width, height = _mark_extent(figure, fid)
        assert width > 0 and height > 0, f"{fid} draws no marks"
    for title in ("Fraud and the bank&#x27;s view", "Case delays", "Campaigns"):
        assert f"<h2>{title}</h2>" in text, title
    assert "CARD_TESTING" in text and "chargeback after dispute" in text


def test_report_is_deterministic(page, tiny_42):
    assert report.render(tiny_42) == page.read_text()


def test_gateboard_lists_gates_in_natural_order(page):
    gates = re.findall(r"<tr class='\w+'><td>([56]B\.\w+)</td>", page.read_text())
    assert gates.index("5B.T9") < gates.index("5B.T11") < gates.index("6B.T1") < gates.index("6B.T2") \
        < gates.index("6B.T10") < gates.index("6B.T23")


def test_clock_change_panels_only_for_zones_with_enough_arrivals(page, tiny_42, monkeypatch):
    # tiny has at most ~10 arrivals per hour in a clock-change zone: nothing is drawn, all are named.
    text = page.read_text()
    assert not any(fid.startswith("dst-") for fid in _figures(text))
    assert "No zone is drawn" in text and "America/New_York" in text
    monkeypatch.setattr(report, "DST_MIN_PER_HOUR", 5)
    with duckdb.connect() as con:
        parts = report.dst_section(con, tiny_42)
    assert 'id="dst-america-new_york"' in parts[0]
    assert parts[-1].startswith("<p class='note'>Not drawn") and "Asia/Jerusalem" in parts[-1]


def test_report_of_an_incomplete_run_exits_2(runs_root, capsys):
    half = runs_root / "half-run"
    half.mkdir()
    assert runner.main(["report", "--run-dir", str(half)]) == 2
    assert "incomplete" in capsys.readouterr().err


def _chromium(tmp_path, *args: str) -> str:
    if CHROMIUM is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Debian chromium is not installed: CI must render the report (.ci/run installs it)")
        pytest.skip("Debian chromium is not installed (apt-get install chromium)")
    profile = tempfile.mkdtemp(dir=tmp_path)
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args], check=True,
                          capture_output=True, text=True, timeout=180).stdout


def test_every_plot_has_visible_marks_in_headless_chromium(page, tmp_path):
    probe = tmp_path / "probe.html"
    probe.write_text(page.read_text().replace("</body>", PROBE + "</body>"))
    dom = _chromium(tmp_path, "--dump-dom", f"--window-size={WIDTH},1000", probe.as_uri())
    boxes = json.loads(html.unescape(re.search(r'<pre id="boxes">(.*?)</pre>', dom, flags=re.S).group(1)))
    assert set(boxes["plots"]) == set(_figures(page.read_text()))
    shot = tmp_path / "report.png"
    _chromium(tmp_path, f"--screenshot={shot}", f"--window-size={WIDTH},{boxes['height']}", page.as_uri())
    image = Image.open(shot).convert("RGB")
    faint = {}
    for fid, areas in boxes["plots"].items():
        assert areas, f"{fid} has no plot area"
        for box in areas:
            rgb = np.asarray(image.crop(tuple(round(v) for v in box)), dtype=np.int16)
            marks = int((rgb.max(axis=2) - rgb.min(axis=2) > 60).sum())
            if marks < MIN_MARK_PIXELS:
                faint[fid] = marks
    assert not faint, f"plots without visible marks (chromatic pixels in the plot area): {faint}"
