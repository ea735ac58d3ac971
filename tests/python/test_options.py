"""Structured options are refused while the command line is parsed: exit 2, a message naming the
option, the bad value and what is allowed, and nothing written."""
from __future__ import annotations

import pytest

import runner
from python_kernels.run.exit_codes import ExitCode

BAD = [
    (["certify", "--seeds", ""], "--seeds", "''", "distinct integers"),
    (["certify", "--seeds", ","], "--seeds", "','", "distinct integers"),
    (["certify", "--seeds", "42,"], "--seeds", "'42,'", "distinct integers"),
    (["certify", "--seeds", "a,b"], "--seeds", "'a'", "distinct integers"),
    (["certify", "--seeds", "42,42"], "--seeds", "repeats seed 42", "distinct integers"),
    (["certify", "--seeds", "7,-1"], "--seeds", "'-1'", "[0, 2**63)"),
    (["certify", "--seeds", str(2**63)], "--seeds", str(2**63), "[0, 2**63)"),
    (["certify", "--preset", "huge"], "--preset", "'huge'", "tiny, small, medium, large"),
    (["certify", "--threads", "0"], "--threads", "'0'", "[1, 64]"),
    (["certify", "--out", ""], "--out", "''", "a folder path"),
    (["certify", "--policies", " "], "--policies", "' '", "a folder path"),
    (["run", "--seed", "-5"], "--seed", "'-5'", "[0, 2**63)"),
    (["run", "--seed", str(2**63)], "--seed", str(2**63), "[0, 2**63)"),
    (["run", "--seed", "4.2"], "--seed", "'4.2'", "an integer"),
    (["run", "--threads", "65"], "--threads", "'65'", "[1, 64]"),
    (["run", "--threads", "two"], "--threads", "'two'", "[1, 64]"),
    (["run", "--run-dir", ""], "--run-dir", "''", "a folder path"),
    (["bench", "--preset", "../x"], "--preset", "'../x'", "tiny, small, medium, large"),
    (["report", "--seed", "x"], "--seed", "'x'", "an integer"),
    (["report", "--preset", "../../etc"], "--preset", "'../../etc'", "tiny, small"),
    (["docs", "--threads", "-1"], "--threads", "'-1'", "[1, 64]"),
    (["docs", "--run-dir", ""], "--run-dir", "''", "a folder path"),
]


@pytest.mark.parametrize("argv, option, value, allowed", BAD, ids=[" ".join(b[0]) for b in BAD])
def test_bad_option_exits_2_naming_option_value_and_what_is_allowed(tmp_path, monkeypatch, capsys,
                                                                     argv, option, value, allowed):
    monkeypatch.setenv("FDE_RUNS_ROOT", str(tmp_path / "runs"))
    assert runner.main(argv) == ExitCode.BAD_INPUT
    err = capsys.readouterr().err
    assert f"argument {option}" in err and value in err and allowed in err
    assert not (tmp_path / "runs").exists()


def test_a_bad_thread_count_from_the_environment_is_refused(monkeypatch, capsys):
    monkeypatch.setenv("FDE_THREADS", "lots")
    assert runner.main(["docs"]) == ExitCode.BAD_INPUT
    assert "'lots'" in capsys.readouterr().err


def test_good_values_parse_to_what_the_commands_take():
    args = runner.build_parser().parse_args(["certify", "--seeds", " 42, 7 ,101", "--threads", "3"])
    assert args.seeds == [42, 7, 101] and args.threads == 3
    args = runner.build_parser().parse_args(["run", "--seed", str(2**63 - 1), "--preset", "tiny"])
    assert args.seed == 2**63 - 1 and args.preset == "tiny"
