"""The benchmark command and the disk check: measured states, W, the tables; chunking and a
single dbt thread leave the data unchanged."""
from __future__ import annotations

import json
import os
import time
from types import SimpleNamespace

import numpy as np
import pytest

import runner
from conftest import _receipt
from python_kernels.run import bench, commands, lock, pipeline, runs, states
from python_kernels.run.exit_codes import ExitCode

STATES = ("5B.S1", "5B.S2", "5B.S3", "5B.S4", "5B.S5", "6B.S1", "6B.S2", "6B.S3", "6B.S4", "6B.S5")


@pytest.fixture(scope="module")
def tiny_bench(runs_root):
    before = dict(os.environ)
    rc = runner.main(["bench", "--preset", "tiny", "--seed", "42"])
    assert rc == 0
    assert dict(os.environ) == before
    return runs_root / "bench-tiny-seed42"


def test_bench_measures_every_budgeted_state(tiny_bench):
    record = json.loads((tiny_bench / "bench" / "bench.json").read_text())
    receipt = _receipt(tiny_bench)
    assert record["arrivals"] == receipt["datasets"]["arrival_events_5B"]["rows"] > 0
    for state in STATES:
        s = record["states"][state]
        assert s["seconds"] > 0 and s["cpu_seconds"] > 0 and s["peak_rss_bytes"] > 100 * 2 ** 20, state
        assert s["rows"] > 0 and s["parquet_bytes"] > 0 and 0 < s["efficiency"], state
        assert s["budget_large_seconds"] == bench.BUDGETS_LARGE[state]
    # the arrivals state writes exactly the arrivals and the surface's realism metrics (booked
    # with 5B.S4, whose routing they read); 6B.S4 at least one truth label per flow
    con = runs.connect(tiny_bench, 1)
    try:
        metrics = con.execute("select count(*) from world_intensity_realism_5A").fetchone()[0]
    finally:
        con.close()
    assert 0 < metrics < 20
    assert record["states"]["5B.S4"]["rows"] == record["arrivals"] + metrics
    assert record["states"]["6B.S4"]["rows"] > receipt["datasets"]["s4_flow_truth_labels_6B"]["rows"]
    for state in ("publish", "validation"):
        assert record["states"][state]["seconds"] > 0
    e = record["end_to_end"]
    # a view's rows are not written: they count neither as published nor in its state's rows
    assert e["rows_published"] == sum(d["rows"] for d in receipt["datasets"].values() if not d.get("view"))
    assert record["states"]["6B.S2"]["rows"] == receipt["datasets"]["s2_flow_anchor_baseline_6B"]["rows"]
    assert e["seconds"] >= sum(s["seconds"] for s in record["states"].values()) * 0.95
    assert 0 < e["efficiency"] < 1 and e["peak_rss_bytes"] >= max(s["peak_rss_bytes"] for s in record["states"].values())
    for table, rate in record["write_rates"].items():
        assert rate["rows"] > 0 and rate["seconds"] > 0 and rate["bytes"] > 0, table
    assert not (tiny_bench / "work" / "bench_w").exists()


def test_bench_writes_its_table_and_the_scaling_table(tiny_bench, runs_root):
    table = (tiny_bench / "bench" / "bench.md").read_text()
    assert "| state | seconds | CPU s | peak RSS GB | rows |" in table
    assert "| 6B.S4 |" in table and "End to end:" in table
    scaling = (runs_root / "bench_scaling.md").read_text()
    assert "| state | tiny (0.05M) |" in scaling and "| end to end |" in scaling


def test_bench_builds_the_same_data_as_a_run(tiny_bench, tiny_42):
    # one dbt thread and a rebuilt database change nothing
    a, b = _receipt(tiny_bench)["datasets"], _receipt(tiny_42)["datasets"]
    assert {k: v["content_digest"] for k, v in a.items()} == {k: v["content_digest"] for k, v in b.items()}


def test_small_chunks_give_the_same_data(runs_root, tiny_42, policy_copy):
    def chunks(data):
        data["presets"]["tiny"]["chunk_rows"] = 10_000  # ~5 chunks of the ~50k tiny arrivals
    folder = policy_copy({"presets.yaml": chunks})
    rc = runner.main(["run", "--preset", "tiny", "--run-dir", str(runs_root / "tiny-42-chunks"),
                      "--policies", str(folder)])
    assert rc == 0
    a, b = _receipt(runs_root / "tiny-42-chunks")["datasets"], _receipt(tiny_42)["datasets"]
    assert {k: v["content_digest"] for k, v in a.items()} == {k: v["content_digest"] for k, v in b.items()}


def test_a_run_the_disk_cannot_hold_is_refused(runs_root, policy_copy, capsys):
    def huge(data):
        data["presets"]["tiny"]["arrivals_target"] = 1_000_000_000
    folder = policy_copy({"presets.yaml": huge})
    run_dir = runs_root / "tiny-huge"
    rc = runner.main(["run", "--preset", "tiny", "--run-dir", str(run_dir), "--policies", str(folder)])
    err = capsys.readouterr().err
    need = 1_000_000_000 * runs.DISK_BYTES_PER_ARRIVAL / 1e9
    assert rc == 2 and f"needs about {need:.1f} GB of disk" in err and "GB is free there" in err
    assert not run_dir.exists()


def test_disk_estimate_counts_what_the_run_directory_already_holds(tmp_path):
    preset = {"arrivals_target": 1_000, "scenarios": ["baseline_v1"]}
    runs.check_disk(tmp_path / "new", "p", preset)  # under 1 MB fits anywhere
    free = __import__("shutil").disk_usage(tmp_path).free
    preset["arrivals_target"] = free // runs.DISK_BYTES_PER_ARRIVAL + 1
    with pytest.raises(runs.RunError):
        runs.check_disk(tmp_path / "new", "p", preset)


def test_meter_phase_records_wall_cpu_and_peak_memory():
    meter = bench.Meter(lambda info: None, interval=0.01)
    with meter.phase("idle"):
        time.sleep(0.05)
    with meter.phase("busy"):
        block = np.ones(300 * 2 ** 20 // 8)  # 300 MB touched
        time.sleep(0.05)
        del block
    peak = meter.close()
    assert meter.wall["idle"] >= 0.05 and meter.cpu["idle"] < 0.05
    assert meter.peak["busy"] >= meter.peak["idle"] + 250 * 2 ** 20
    assert peak >= meter.peak["busy"]


def test_a_test_is_booked_to_the_latest_state_it_checks():
    nodes = {"model.p.s2_a": {"config": {"meta": {"state": "6B.S2"}}},
             "model.p.s3_b": {"config": {"meta": {"state": "6B.S3"}}},
             "model.p.int_gates_6B_c": {"config": {"meta": {"state": "6B.S5"}}},
             "test.p.pair": {"depends_on": {"nodes": ["model.p.s3_b", "model.p.s2_a"]}},
             "test.p.lonely": {"depends_on": {"nodes": []}}}
    assert states.state_of_test(nodes, "test.p.pair") == "6B.S3"
    assert states.state_of_test(nodes, "test.p.lonely") is None

    def event(name, uid):
        info = SimpleNamespace(unique_id=uid, node_name=uid.split(".")[-1])
        return SimpleNamespace(info=SimpleNamespace(name=name), data=SimpleNamespace(node_info=info))

    built = {"model.p.s3_b": "6B.S3", "model.p.int_gates_6B_c": "6B.S5"}
    meter = bench.Meter(lambda info: built.get(info.unique_id), interval=0.01)
    # dbt's order: the gate input is built before the test of the S3 model runs
    for uid in ("model.p.s3_b", "model.p.int_gates_6B_c", "test.p.pair", "test.p.lonely"):
        meter(event("NodeStart", uid))
        time.sleep(0.05 if uid == "test.p.pair" else 0)
        meter(event("NodeFinished", uid))
    meter.book_tests(lambda uid: states.state_of_test(nodes, uid))
    meter.close()
    assert meter.wall["6B.S3"] >= 0.05 > meter.wall["6B.S5"]
    assert meter.models == {"6B.S3": ["s3_b"], "6B.S5": ["int_gates_6B_c"]}


def test_efficiency_is_raw_write_time_over_state_time():
    class FakeMeter:
        wall = {"6B.S3": 10.0}
        cpu = {"6B.S3": 15.0}
        peak = {"6B.S3": 2 ** 30}
        models = {"6B.S3": ["a", "b"]}
    rates = {"a": {"rows": 100, "seconds": 1.0, "bytes": 1000}, "b": {"rows": 50, "seconds": 0.5, "bytes": 200}}
    record = bench.summarise(FakeMeter(), {"a": 400, "b": 100}, rates, {"a": 400}, 1_250_000, 20.0, 2 ** 31)
    s = record["states"]["6B.S3"]
    assert s["rows"] == 500 and s["rows_per_second"] == 50
    assert s["efficiency"] == pytest.approx((400 / 100 * 1.0 + 100 / 50 * 0.5) / 10.0)
    assert s["parquet_bytes"] == 400 * 10 + 100 * 4
    assert s["budget_at_this_size_seconds"] == pytest.approx(300 * 0.01)
    assert s["seconds_per_million_arrivals"] == pytest.approx(8.0)
    assert record["end_to_end"]["efficiency"] == pytest.approx(4.0 / 20.0)


def test_scaling_table_compares_each_preset_with_the_one_before():
    def record(arrivals, seconds):
        return {"arrivals": arrivals, "states": {"6B.S3": {"seconds_per_million_arrivals": seconds / arrivals * 1e6}},
                "end_to_end": {"seconds_per_million_arrivals": seconds / arrivals * 1e6}}
    table = bench.scaling_markdown({"medium": record(40_000_000, 1_000), "small": record(5_000_000, 100)})
    assert "| state | small (5.00M) | medium (40.00M) |" in table
    assert "| 6B.S3 | 20.00 | 25.00 |" in table
    assert "| end to end, change from the preset before |  | +25% |" in table


def test_bench_builds_one_node_at_a_time_without_touching_the_environment(runs_root, monkeypatch):
    seen = {}

    def fake_execute(prep, meter):
        seen["config"] = prep.config
        raise runs.RunError("stop here", ExitCode.PIPELINE_FAILED)

    monkeypatch.setattr(pipeline, "execute", fake_execute)
    before = dict(os.environ)
    config = pipeline.RunConfig(preset="tiny", seed=42, policies="policies", threads=2)
    with pytest.raises(runs.RunError, match="stop here"):
        commands.bench(config)
    assert seen["config"].dbt_threads == 1
    assert seen["config"].run_dir == str(runs_root / "bench-tiny-seed42")
    assert dict(os.environ) == before
    assert not lock.lock_path(runs_root / "bench-tiny-seed42").exists()  # released on the error


def test_dbt_gets_the_runs_environment_and_thread_count_only_while_it_runs(tmp_path, monkeypatch):
    from dbt.cli import main as dbt_main

    from python_kernels.run import dbt
    from python_kernels.run.progress import Progress

    seen = {}

    class FakeRunner:
        def __init__(self, manifest, callbacks):
            seen["manifest"] = manifest

        def invoke(self, args):
            seen.update(args=args, db=os.environ["FDE_DUCKDB_PATH"], cwd=os.getcwd())
            return SimpleNamespace(success=True)

    monkeypatch.setattr(dbt_main, "dbtRunner", FakeRunner)
    before, cwd = dict(os.environ), os.getcwd()
    dbt.invoke("build", tmp_path, {}, 2, Progress(), [], dbt_threads=1)
    assert seen["args"][seen["args"].index("--threads") + 1] == "1"
    assert seen["db"] == str(tmp_path / "work" / "engine.duckdb") and seen["cwd"] == str(dbt.PROJECT_DIR)
    assert dict(os.environ) == before and os.getcwd() == cwd
    dbt.invoke("build", tmp_path, {}, 2, Progress(), [], manifest="parsed")
    assert "--threads" not in seen["args"] and seen["manifest"] == "parsed"
