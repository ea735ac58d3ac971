"""What a run tells the person watching it: messages and one line per finished dbt node."""
from __future__ import annotations

import sys
import time

from python_kernels.run.states import node_state


def say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


class Progress:
    """One line per finished node: its state (world, 5B.S1, ..., 6B.S5), kind, name, status,
    elapsed time and an ETA.

    On a terminal the line is rewritten in place; otherwise plain log lines are printed.
    """

    def __init__(self, stream=sys.stderr):
        self.stream = stream
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
            # a test shows the state built last: it runs once the models it reads are done
            self.state = node_state(info) or self.state
            self._show(self.state, kind, info.node_name, status)

    def _show(self, state, kind, node, status):
        elapsed = time.monotonic() - self.start
        total = max(self.total, self.done)
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
