"""The policy loader: the real folder loads, parameter_hash tracks content (not formatting),
and every bad input stops with a PolicyError naming file, key, value and what is allowed.

Each test works on a copy of the whole real folder and corrupts only presets.yaml (or a
synthetic file registered for the test), so it does not depend on other policy files' content.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from python_kernels.core.policies import load_policies, policy_rows
from python_kernels.core.policy_schema import SCHEMAS
from python_kernels.core.policy_schema.nodes import Dist, Enum, Obj, PolicyError
from python_kernels.core.policy_schema.presets import PRESET_NAMES

POLICIES = Path(__file__).resolve().parents[2] / "policies"


@pytest.fixture
def folder(tmp_path) -> Path:
    dst = tmp_path / "policies"
    shutil.copytree(POLICIES, dst)
    return dst


def edit_presets(folder: Path, change) -> None:
    path = folder / "presets.yaml"
    data = yaml.safe_load(path.read_text())
    change(data["presets"])
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def expect_error(folder: Path, file: str, key: str, value, allowed: str) -> PolicyError:
    with pytest.raises(PolicyError) as info:
        load_policies(folder)
    err = info.value
    assert (err.file, err.key) == (file, key)
    assert err.value == value
    assert allowed in err.allowed
    assert file in str(err) and key in str(err) and allowed in str(err)
    return err


# ---- the real folder -------------------------------------------------------------------------

def test_real_policies_load():
    ps = load_policies(POLICIES)
    assert set(ps.values) == {name[: -len(".yaml")] for name in SCHEMAS}
    for name in PRESET_NAMES:
        assert ps.preset(name)["n_merchants"] > 0
    assert len(ps.parameter_hash) == 64


def test_policy_rows_expose_the_active_preset():
    ps = load_policies(POLICIES)
    rows = {key: (num, text) for key, num, text in policy_rows(ps, "tiny")}
    assert rows["preset.n_merchants"] == (float(ps.preset("tiny")["n_merchants"]), None)
    assert rows["preset.countries"] == (None, ps.preset("tiny")["countries"])
    assert rows["presets.presets.small.n_merchants"][0] == ps.preset("small")["n_merchants"]
    assert rows["preset.scenarios[0]"] == (None, "baseline_v1")


# ---- parameter_hash ----------------------------------------------------------------------------

def test_hash_is_stable_across_folders_and_loads(folder):
    assert load_policies(folder).parameter_hash == load_policies(POLICIES).parameter_hash
    assert load_policies(folder).parameter_hash == load_policies(folder).parameter_hash


def _reversed(obj):
    if isinstance(obj, dict):
        return {k: _reversed(obj[k]) for k in reversed(list(obj))}
    if isinstance(obj, list):
        return [_reversed(x) for x in obj]
    return obj


@pytest.mark.parametrize("style", ("flow", "block_reversed", "sorted_commented"))
def test_hash_ignores_key_order_and_formatting(folder, style):
    before = load_policies(folder).parameter_hash
    for path in folder.glob("*.yaml"):
        data = yaml.safe_load(path.read_text())
        if style == "flow":
            text = yaml.safe_dump(data, default_flow_style=True, width=10_000)
        elif style == "block_reversed":
            text = yaml.safe_dump(_reversed(data), sort_keys=False, indent=4)
        else:
            text = "# reformatted\n\n" + yaml.safe_dump(data, sort_keys=True).replace("\n", "  # note\n", 1)
        path.write_text(text)
    assert load_policies(folder).parameter_hash == before


def test_hash_ignores_number_spelling(folder):
    before = load_policies(folder).parameter_hash
    text = (folder / "presets.yaml").read_text()
    tiny = yaml.safe_load(text)["presets"]["tiny"]
    n, p = tiny["n_merchants"], tiny["p_single_site"]
    text = text.replace(f"n_merchants: {n}\n", f"n_merchants: {n}.0\n", 1)
    text = text.replace(f"p_single_site: {p}\n", f"p_single_site: {p:.6e}\n", 1)
    (folder / "presets.yaml").write_text(text)
    assert load_policies(folder).parameter_hash == before


def _leaf_changes():
    """(preset, key path, new value) for every leaf of every preset, each a valid new value."""
    presets = yaml.safe_load((POLICIES / "presets.yaml").read_text())["presets"]
    for name, p in presets.items():
        for key, v in p.items():
            if isinstance(v, bool):
                yield name, (key,), not v
            elif isinstance(v, int):
                yield name, (key,), v + 1
            elif isinstance(v, float):
                yield name, (key,), v * 0.5
        yield name, ("description",), p["description"] + " (edited)"
        yield name, ("countries",), "all" if p["countries"] == "tiny" else "tiny"
        yield name, ("scenarios",), ["baseline_v1"] if len(p["scenarios"]) > 1 else ["baseline_v1", "stress_peak_online_v1"]
        yield name, ("horizon", "start"), "2025-12-31T23:00:00Z"
        yield name, ("horizon", "end"), "2026-04-01T01:00:00Z"


@pytest.mark.parametrize("preset,path,value", list(_leaf_changes()))
def test_hash_changes_with_any_value(folder, preset, path, value):
    before = load_policies(folder).parameter_hash

    def change(presets):
        node = presets[preset]
        for k in path[:-1]:
            node = node[k]
        node[path[-1]] = value

    edit_presets(folder, change)
    after = load_policies(folder)
    node = after.preset(preset)
    for k in path:
        node = node[k]
    assert node == value
    assert after.parameter_hash != before


# ---- bad input ---------------------------------------------------------------------------------

def test_malformed_yaml_names_line_and_column(folder):
    lines = (folder / "presets.yaml").read_text().splitlines(keepends=True)
    i = next(i for i, line in enumerate(lines) if line.strip().startswith("n_merchants:"))
    lines[i] = lines[i].rstrip("\n") + ": 5\n"      # 'n_merchants: 60: 5'
    (folder / "presets.yaml").write_text("".join(lines))
    column = lines[i].rindex(":") + 1
    err = expect_error(folder, "presets.yaml", "<yaml>", f"line {i + 1}, column {column}", "well-formed YAML")
    assert "mapping values are not allowed" in err.allowed


def test_empty_file(folder):
    (folder / "presets.yaml").write_text("# nothing here\n")
    expect_error(folder, "presets.yaml", "<top level>", None, "a mapping with keys presets")


INT_RANGE = "an integer >= 10 and <= 100000"


@pytest.mark.parametrize("key,value,allowed", (
    ("n_merchants", "sixty", INT_RANGE),                         # string where number
    ("p_single_site", "0.45", "a number >= 0 and <= 1"),         # quoted number is still a string
    ("n_merchants", True, INT_RANGE),                            # bool where int
    ("p_single_site", False, "a number >= 0 and <= 1"),          # bool where number
    ("n_merchants", 60.5, INT_RANGE),                            # fraction where int
    ("n_merchants", -5, INT_RANGE),                              # negative size
    ("n_merchants", 0, INT_RANGE),
    ("arrivals_target", -1, "an integer >= 1000"),
    ("p_single_site", 1.2, "a number >= 0 and <= 1"),            # probability > 1
    ("p_single_site", -0.1, "a number >= 0 and <= 1"),
    ("multisite_sigma", float("nan"), "a number >= 0 and <= 5"),
    ("multisite_median_extra", float("inf"), "a number >= 0.1 and <= 1000"),
    ("countries", "europe", "one of tiny, all"),                  # unknown enum value
    ("description", 42, "a string matching"),
    ("scenarios", [], "a list of at least 1 item"),
    ("scenarios", "baseline_v1", "a list of at least 1 item"),
    ("horizon", "2026-03-04", "a mapping with keys start, end"),
))
def test_bad_value(folder, key, value, allowed):
    edit_presets(folder, lambda p: p["tiny"].__setitem__(key, value))
    shown = value if value == value else pytest.approx(value, nan_ok=True)
    expect_error(folder, "presets.yaml", f"presets.tiny.{key}", shown, allowed)


@pytest.mark.parametrize("index,value,allowed", (
    (1, "stress_peak_offline_v1", "one of baseline_v1, stress_peak_online_v1"),
    (1, 7, "one of baseline_v1"),
))
def test_unknown_scenario(folder, index, value, allowed):
    edit_presets(folder, lambda p: p["tiny"].__setitem__("scenarios", ["baseline_v1", value]))
    expect_error(folder, "presets.yaml", f"presets.tiny.scenarios[{index}]", value, allowed)


@pytest.mark.parametrize("field,value,allowed", (
    ("start", "2026-03-04", "a UTC instant on a whole hour"),
    ("start", "2026-03-04T00:30:00Z", "a UTC instant on a whole hour"),
    ("start", "2026-03-04T00:00:00+01:00", "a UTC instant on a whole hour"),
    ("end", "first of April", "an ISO-8601 UTC instant"),
    ("end", 20260401, "an ISO-8601 UTC instant"),
))
def test_bad_timestamp(folder, field, value, allowed):
    edit_presets(folder, lambda p: p["tiny"]["horizon"].__setitem__(field, value))
    expect_error(folder, "presets.yaml", f"presets.tiny.horizon.{field}", value, allowed)


@pytest.mark.parametrize("end", ("2026-03-03T00:00:00Z", "2026-03-04T00:00:00Z"))
def test_horizon_end_not_after_start(folder, end):
    edit_presets(folder, lambda p: p["tiny"]["horizon"].update(start="2026-03-04T00:00:00Z", end=end))
    expect_error(folder, "presets.yaml", "presets.tiny.horizon.end", end, "an instant after horizon.start")


def test_unknown_key_typo(folder):
    edit_presets(folder, lambda p: p["tiny"].__setitem__("n_merchant", p["tiny"].pop("n_merchants")))
    err = expect_error(folder, "presets.yaml", "presets.tiny.n_merchant", 60, "known keys only")
    assert "n_merchants" in err.allowed


def test_unknown_top_level_key(folder):
    path = folder / "presets.yaml"
    path.write_text(path.read_text() + "presetz: {}\n")
    expect_error(folder, "presets.yaml", "presetz", {}, "known keys only: presets")


def test_missing_required_key(folder):
    edit_presets(folder, lambda p: p["small"].pop("chunk_rows"))
    expect_error(folder, "presets.yaml", "presets.small.chunk_rows", None, "a required key (an integer >= 10000")


def test_missing_preset(folder):
    edit_presets(folder, lambda p: p.pop("large"))
    expect_error(folder, "presets.yaml", "presets.large", None, "tiny, small, medium and large must all be defined")


def test_unknown_preset_in_file(folder):
    edit_presets(folder, lambda p: p.__setitem__("huge", dict(p["large"])))
    expect_error(folder, "presets.yaml", "presets.huge", "huge", "preset names tiny, small, medium, large")


def test_unknown_preset_requested():
    ps = load_policies(POLICIES)
    with pytest.raises(PolicyError) as info:
        ps.preset("huge")
    assert (info.value.file, info.value.key, info.value.value) == ("presets.yaml", "presets", "huge")
    assert "tiny" in info.value.allowed and "huge" in str(info.value)


@pytest.mark.parametrize("scenarios,allowed", (
    (["baseline_v1", "baseline_v1"], "distinct scenario ids"),
    (["stress_peak_online_v1"], "includes baseline_v1"),
))
def test_scenario_cross_checks(folder, scenarios, allowed):
    edit_presets(folder, lambda p: p["tiny"].__setitem__("scenarios", scenarios))
    expect_error(folder, "presets.yaml", "presets.tiny.scenarios", scenarios, allowed)


def test_missing_file(folder):
    (folder / "presets.yaml").unlink()
    expect_error(folder, "presets.yaml", "<file>", "missing", "every policy file")


def test_unknown_extra_file(folder):
    (folder / "presets_old.yaml").write_text((folder / "presets.yaml").read_text())
    expect_error(folder, "presets_old.yaml", "<file>", "unknown file", "only: ")


def test_missing_folder(tmp_path):
    with pytest.raises(PolicyError, match="an existing policy folder"):
        load_policies(tmp_path / "nowhere")


# ---- distributions (Dist) on a synthetic policy file ----------------------------------------

@pytest.fixture
def mix(folder, monkeypatch):
    """Registers a synthetic `mix.yaml` with a Dist over an enum and a free-keyed Dist."""
    monkeypatch.setitem(SCHEMAS, "mix.yaml", (Obj({
        "channel": Dist(Enum(("card_present", "online", "moto"))),
        "share": Dist(),
    }), None))
    return folder / "mix.yaml"


def test_dist_accepts_probabilities_summing_to_one(folder, mix):
    mix.write_text("channel: {card_present: 0.6, online: 0.3, moto: 0.1}\nshare: {a: 0.25, b: 0.75}\n")
    assert load_policies(folder)["mix"]["channel"] == {"card_present": 0.6, "online": 0.3, "moto": 0.1}


@pytest.mark.parametrize("text,key,value,allowed", (
    ("channel: {card_present: 0.6, online: 0.3, moto: 0.05}", "channel",
     {"card_present": 0.6, "online": 0.3, "moto": 0.05}, "probabilities summing to 1 (they sum to 0.95)"),
    ("channel: {card_present: 0.6, online: 0.3, moto: 0.2}", "channel",
     {"card_present": 0.6, "online": 0.3, "moto": 0.2}, "(they sum to 1.1)"),
    ("channel: {card_present: 1.2, online: -0.2}", "channel.card_present", 1.2, "a number >= 0 and <= 1"),
    ("channel: {card_present: 0.5, atm: 0.5}", "channel.<key>", "atm", "one of card_present, online, moto"),
    ("channel: {card_present: 0.5, online: half}", "channel.online", "half", "a number >= 0 and <= 1"),
    ("channel: {}", "channel", {}, "a mapping with at least 1"),
))
def test_dist_errors(folder, mix, text, key, value, allowed):
    mix.write_text(text + "\nshare: {a: 1.0}\n")
    expect_error(folder, "mix.yaml", key, value, allowed)


def test_synthetic_file_changes_hash(folder, mix):
    mix.write_text("channel: {card_present: 0.6, online: 0.3, moto: 0.1}\nshare: {a: 1.0}\n")
    before = load_policies(folder).parameter_hash
    mix.write_text("channel: {card_present: 0.5, online: 0.4, moto: 0.1}\nshare: {a: 1.0}\n")
    assert load_policies(folder).parameter_hash != before


# ---- profiles: a folder that extends another and holds only what it changes ---------------------

def _profile(tmp_path: Path, base: Path, files: dict, name="profile") -> Path:
    prof = tmp_path / name
    prof.mkdir()
    (prof / "profile.yaml").write_text(yaml.safe_dump({"extends": str(base), "description": "a test profile"}))
    for file, data in files.items():
        (prof / file).write_text(yaml.safe_dump(data))
    return prof


def test_a_profile_changes_only_the_keys_it_names(tmp_path, folder):
    prof = _profile(tmp_path, folder, {"bank_view.yaml": {"process": {"p_detect": {"NONE": 0.01}}}})
    base, got = load_policies(folder), load_policies(prof)
    assert got["bank_view"]["process"]["p_detect"]["NONE"] == 0.01
    assert got["bank_view"]["process"]["p_detect"]["ATO"] == base["bank_view"]["process"]["p_detect"]["ATO"]
    assert {k: v for k, v in got.values.items() if k != "bank_view"} == \
        {k: v for k, v in base.values.items() if k != "bank_view"}
    assert got.parameter_hash != base.parameter_hash


def test_a_profile_hashes_like_the_full_folder_with_the_same_values(tmp_path, folder):
    prof = _profile(tmp_path, folder, {"bank_view.yaml": {"cases": {"group_window_seconds": 3600}}})
    path = folder / "bank_view.yaml"
    data = yaml.safe_load(path.read_text())
    data["cases"]["group_window_seconds"] = 3600
    path.write_text(yaml.safe_dump(data))
    assert load_policies(prof).parameter_hash == load_policies(folder).parameter_hash


def test_a_profile_is_validated_after_the_overlay(tmp_path, folder):
    prof = _profile(tmp_path, folder, {"bank_view.yaml": {"process": {"p_detect": {"NONE": 1.5}}}})
    expect_error(prof, "bank_view.yaml", "process.p_detect.NONE", 1.5, "a number >= 0 and <= 1")
    prof = _profile(tmp_path, folder, {"bank_view.yaml": {"process": {"p_detekt": {}}}}, name="typo")
    expect_error(prof, "bank_view.yaml", "process.p_detekt", {}, "known keys only")


def test_a_profile_refuses_unknown_files_missing_bases_and_cycles(tmp_path, folder):
    prof = _profile(tmp_path, folder, {"fraud.yaml": {}})
    expect_error(prof, "fraud.yaml", "<file>", "unknown file", "only: ")
    prof = _profile(tmp_path, tmp_path / "nowhere", {}, name="orphan")
    with pytest.raises(PolicyError, match="an existing policy folder"):
        load_policies(prof)
    a, b = tmp_path / "a", tmp_path / "b"
    _profile(tmp_path, b, {}, name="a")
    _profile(tmp_path, a, {}, name="b")
    with pytest.raises(PolicyError, match="without a cycle"):
        load_policies(a)


def test_the_realistic_profile_loads_and_lowers_prevalence():
    base, real = load_policies(POLICIES), load_policies(POLICIES / "profiles" / "realistic")
    assert real["gates"]["target_version"] != base["gates"]["target_version"]
    for tid, t in real["campaigns"]["templates"].items():
        b = base["campaigns"]["templates"][tid]
        assert t["cohort_share"] * t["intensity"][1] * t["mean_per_30_days"] \
            < b["cohort_share"] * b["intensity"][1] * b["mean_per_30_days"], tid
