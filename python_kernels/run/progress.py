"""What a run tells the person watching it: messages and one line per finished dbt node, with
an ETA weighted by each state's expected share of the work."""
from __future__ import annotations

import sys
import time
from typing import NamedTuple

from python_kernels.run.states import node_state


class Plan(NamedTuple):
    """What a build is expected to cost: the part of the work (e.g. a state's models, or its
    tests) each node it runs belongs to, and each part's expected seconds; parts without nodes
    (the run's steps after the build) are expected too, so the ETA is the run's."""
    node_part: dict[str, object]
    expected: dict[object, float]


def remaining_seconds(plan: Plan, done: dict[object, int], elapsed: float) -> float:
    """Expected seconds left: the work not done yet (a part's seconds split evenly over its
    nodes) at the pace of the work done so far. The table's seconds come from another machine,
    so only their shares count; before any work is done they are taken as they are."""
    planned: dict[object, int] = {}
    for part in plan.node_part.values():
        planned[part] = planned.get(part, 0) + 1
    finished = sum(plan.expected.get(p, 0.0) * min(done.get(p, 0), n) / n for p, n in planned.items())
    pace = elapsed / finished if finished > 0 else 1.0
    return (sum(plan.expected.values()) - finished) * pace


def say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


class Progress:
    """One line per finished node: its state (world, 5B.S1, ..., 6B.S5), kind, name, status,
    elapsed time and an ETA.

    On a terminal the line is rewritten in place; otherwise plain log lines are printed.
    """

    def __init__(self, stream=sys.stderr, plan: Plan | None = None):
        self.stream = stream
        self.plan = plan
        self.done_by_part: dict[object, int] = {}
        self.tty = stream.isatty()
        self.start = time.monotonic()
        self.done = 0
        self.total = 0
        self.node_seconds: dict[str, float] = {}
        self.failures: list[str] = []
        self.state = "-"

    def __call__(self, event) -> None:
        name = event.info.name
        if name == "LogStartLine":
            self.total = max(self.total, event.data.total)
        elif name == "NodeFinished":
            info = event.data.node_info
            status = info.node_status
            uid = info.unique_id
            kind = uid.split(".")[0]
            if kind in ("model", "seed"):
                self.node_seconds[uid] = event.data.run_result.execution_time
            if status in ("error", "fail", "runtime error"):
                self.failures.append(f"{uid}: {event.data.run_result.message or status}")
            self.done += 1
            if self.plan is not None and uid in self.plan.node_part:
                part = self.plan.node_part[uid]
                self.done_by_part[part] = self.done_by_part.get(part, 0) + 1
            # a test shows the state built last: it runs once the models it reads are done
            self.state = node_state(info) or self.state
            self._show(self.state, kind, info.node_name, status)

    def _show(self, state, kind, node, status):
        elapsed = time.monotonic() - self.start
        total = max(self.total, self.done)
        if self.plan is not None:
            eta = remaining_seconds(self.plan, self.done_by_part, elapsed)
        else:  # a test-only command: its nodes cost alike
            eta = elapsed / self.done * (total - self.done) if self.done else 0.0
        line = (f"[{self.done:>4}/{total:<4}] {state:<6} {kind:<5} {node[:48]:<48} {status:<7} "
                f"elapsed {elapsed:6.1f}s  eta {eta:5.0f}s")
        if self.tty:
            self.stream.write("\r" + line[:160].ljust(160))
            if status not in ("success", "pass"):
                self.stream.write("\n")
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self):
        if self.tty:
            self.stream.write("\n")
