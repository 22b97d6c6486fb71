"""The lesson "CNN vs flattened MLP": the library's `shuffle` experiment (quick budget), run on demand in a
background thread so the page can poll its progress instead of holding a request open for half a minute.

One run per server: every visitor sees the same run, and a finished run's numbers stay until the server
stops (the experiment is seeded, so a second run would only repeat them).
"""

from __future__ import annotations

import io
import os
import threading
from typing import Any

from ..engine.errors import ConvScopeError
from . import background

STAGES = 12  # the quick `shuffle` fits 3 models x 2 conditions x 2 data sets, one after another


class ShuffleRun:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.state = "idle"            # idle -> running -> done (or failed, which may be started again)
        self.stage, self.stage_label, self.fraction = 0, "", 0.0
        self.result: dict[str, Any] | None = None
        self.png: bytes | None = None
        self.error = ""

    def start(self) -> dict[str, Any]:
        with self._lock:
            if self.state in ("idle", "failed"):
                self.state, self.stage, self.fraction, self.error = "running", 0, 0.0, ""
                background.start(self._run, "convscope-shuffle")
        return self.status()

    def status(self) -> dict[str, Any]:
        with self._lock:
            done = self.state == "done"
            percent = 100 if done else round(100 * (max(self.stage - 1, 0) + self.fraction) / STAGES)
            report: dict[str, Any] = {"state": self.state, "percent": percent, "stage": self.stage_label,
                                      "error": self.error}
            if done and self.result is not None:
                report.update(self.result, figure="/api/lessons/shuffle.png")
            return report

    def _progress(self, label: str, total: int) -> Any:
        with self._lock:
            self.stage += 1
            self.stage_label, self.fraction = label, 0.0

        def update(done: int) -> None:
            background.check()  # the process is exiting: stop between training steps
            self.fraction = min(1.0, done / max(total, 1))
        return update

    def _run(self) -> None:
        try:  # Linux gives each thread its own niceness: the pages' requests stay quick while this trains
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
        except (AttributeError, OSError):
            pass
        try:
            from ..experiments import REGISTRY, run_experiment

            result = run_experiment("shuffle", quick=True, seed=0, progress=self._progress)
            buffer = io.BytesIO()
            figure = result.figures["shuffle"]
            figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
            summary = {"claim": REGISTRY["shuffle"].claim, "verdict": result.verdict, "holds": result.holds,
                       "seconds": round(result.seconds, 1),
                       "accuracy": {name: round(value, 4) for name, value in result.metrics.items()}}
            with self._lock:
                self.result, self.png, self.state = summary, buffer.getvalue(), "done"
        except background.Stopped:
            return
        except ImportError:
            self._fail("this lesson trains small networks with PyTorch, which is not installed with this lab")
        except (ConvScopeError, RuntimeError, ValueError, MemoryError) as error:
            self._fail(f"the experiment stopped: {error}")

    def _fail(self, message: str) -> None:
        with self._lock:
            self.state, self.error = "failed", message


SHUFFLE = ShuffleRun()
