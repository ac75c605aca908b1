"""Where a worker's CPU goes: runs a module (the worker) with stage clocks and a sampler.

    python bench/cpu_profile.py OUT.json -m newsletter worker ...

Stages are timed exactly: the functions that begin each stage of the send loop (building a
copy, talking SMTP, the ledger's statements, the rate limit) are wrapped so that each
thread's CPU clock is charged to the stage it is in, a nested stage's time to that stage
alone. What no stage claims (Celery, the lease threads, the rest of the loop) is the
process's CPU less theirs, which the bench reads from /proc. Beside them a sampler names
the functions: every INTERVAL of CPU it charges each thread's CPU since the last look to
the stack it is in now, which with several threads favours the points where they wait.
The totals are written to OUT.json while the worker runs and at exit.
py-spy would need ptrace, which containers often forbid; this needs nothing.
"""

from __future__ import annotations

import atexit
import collections
import functools
import importlib
import inspect
import json
import os
import runpy
import signal
import sys
import threading
import time

# (stage, module, attribute path): the functions that begin each stage. Module-level
# functions are wrapped where the send loop looks them up; generators per item.
STAGES = [
    ("build", "newsletter.sending.letter", "IssueLetter.build"),
    ("sign", "newsletter.signing", "Shared.header"),
    ("SMTP", "newsletter.sending.pipeline", "Pipeline.send_all"),
    ("SMTP", "newsletter.sending.loop", "_connect"),
    ("SMTP", "newsletter.sending.loop", "_quit"),
    ("SQL: the windows", "newsletter.sending.loop", "_next_window"),
    ("SQL: recording", "newsletter.sending.loop", "_record"),
    ("SQL: claiming", "newsletter.sending.loop", "claim_batch"),
    ("SQL: the batch's end", "newsletter.sending.loop", "release_claim"),
    ("SQL: the batch's end", "newsletter.sending.loop", "finish_if_done"),
    ("SQL: the batch's end", "newsletter.sending.loop", "next_due"),
    ("SQL: the lease", "newsletter.sending.claims", "Lease._renew"),
    ("throttle (Redis)", "newsletter.sending.throttle", "Throttle.take"),
]
INTERVAL = 0.001  # seconds of the process's CPU time


class Stages:
    """Each thread's CPU, charged to the innermost stage it is in."""

    def __init__(self):
        self.local = threading.local()
        self.counters: list[collections.Counter] = []  # one a thread, summed when written

    def _state(self):
        local = self.local
        if not hasattr(local, "stack"):
            local.stack, local.mark, local.totals = [], 0.0, collections.Counter()
            self.counters.append(local.totals)
        return local

    def enter(self, stage: str) -> None:
        local, now = self._state(), time.thread_time()
        if local.stack:
            local.totals[local.stack[-1]] += now - local.mark
        local.stack.append(stage)
        local.mark = now

    def leave(self) -> None:
        local, now = self.local, time.thread_time()
        local.totals[local.stack.pop()] += now - local.mark
        local.mark = now

    def totals(self) -> collections.Counter:
        return sum(list(self.counters), collections.Counter())

    def wrap(self, stage: str, function):
        if inspect.isgeneratorfunction(function):

            @functools.wraps(function)
            def each_item(*args, **kwargs):
                items = function(*args, **kwargs)
                try:
                    while True:
                        self.enter(stage)
                        try:
                            item = next(items)
                        except StopIteration:
                            return
                        finally:
                            self.leave()
                        yield item
                finally:
                    items.close()  # left early: the wrapped one is closed with it

            return each_item

        @functools.wraps(function)
        def timed(*args, **kwargs):
            self.enter(stage)
            try:
                return function(*args, **kwargs)
            finally:
                self.leave()

        return timed

    def install(self) -> None:
        for stage, module_name, path in STAGES:
            owner = importlib.import_module(module_name)
            *parents, name = path.split(".")
            for parent in parents:
                owner = getattr(owner, parent)
            setattr(owner, name, self.wrap(stage, getattr(owner, name)))


def our_frame(frame):
    """The innermost frame in the project's own code, or the innermost of all."""
    inner = frame
    while frame is not None:
        path = frame.f_code.co_filename
        if "/newsletter/" in path or "/worker/" in path:
            return frame
        frame = frame.f_back
    return inner


def leaf_name(frame) -> str:
    code = frame.f_code
    path = code.co_filename.rsplit("/site-packages/", 1)[-1].rsplit("/newsletter/", 1)[-1]
    return f"{path}:{code.co_name}"


class Sampler:
    """Charges each thread's CPU since the last sample to the stack it is in now, and
    writes it with the stages' clocks.

    Samples come with SIGPROF, after every INTERVAL of the process's CPU time, and Python
    handles them in the main thread between two of its bytecodes: with the solo pool the
    main thread does all the work, so every sample lands where the CPU went. Other threads
    are caught wherever they gave up the GIL, which favours the points where they wait.
    """

    def __init__(self, out: str, clocks: Stages):
        self.out = out
        self.clocks = clocks
        self.baseline = collections.Counter()
        self.stages: dict[str, float] = collections.Counter()  # the sampler's own cost
        self.functions: dict[str, float] = collections.Counter()
        self.ours: dict[str, float] = collections.Counter()
        self.seen: dict[int, float] = {}
        self.written = time.monotonic()
        self.busy = False
        self.counting = False

    def start(self) -> None:
        signal.signal(signal.SIGPROF, self.sample)
        signal.setitimer(signal.ITIMER_PROF, INTERVAL, INTERVAL)
        atexit.register(self.write)

    def sample(self, signum, main_frame) -> None:
        # A signal may come while the last one is still handled: skip it.
        if self.busy:
            return
        self.busy = True
        try:
            self._sample(main_frame)
        finally:
            self.busy = False

    def _sample(self, main_frame) -> None:
        started = time.thread_time()
        # Until the bench says the worker is up: starting is no message's cost.
        counting = self.counting or os.path.exists(self.out + ".start")
        if counting and not self.counting:
            self.counting = True
            for totals in (self.stages, self.functions, self.ours):
                totals.clear()
            self.baseline = self.clocks.totals()
        frames = sys._current_frames()
        frames[threading.main_thread().ident] = main_frame
        for ident, frame in frames.items():
            try:
                used = time.clock_gettime(time.pthread_getcpuclockid(ident))
            except OSError:
                continue
            spent = used - self.seen.get(ident, used)
            self.seen[ident] = used
            if spent > 0 and frame is not None:
                self.functions[leaf_name(frame)] += spent
                self.ours[leaf_name(our_frame(frame))] += spent
        # What sampling costs is charged to the sample's own line, not to the work.
        self.stages["profiler itself"] += time.thread_time() - started
        if time.monotonic() - self.written > 2:
            self.write()

    def write(self) -> None:
        # A sample may come while exit writes: busy makes it skip, and the file is
        # replaced whole so that the bench never reads half of one.
        was_busy, self.busy = self.busy, True
        try:
            totals = {
                "stages": dict(self.clocks.totals() - self.baseline + self.stages),
                "functions": dict(self.functions),
                "ours": dict(self.ours),
            }
            with open(self.out + ".part", "w") as file:
                json.dump(totals, file)
            os.replace(self.out + ".part", self.out)
            self.written = time.monotonic()
        finally:
            self.busy = was_busy


def main() -> None:
    out, flag, module, *args = sys.argv[1:]
    assert flag == "-m", "usage: cpu_profile.py OUT.json -m MODULE [ARGS]"
    clocks = Stages()
    clocks.install()
    Sampler(out, clocks).start()
    sys.argv = [module, *args]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
