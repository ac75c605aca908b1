"""Where a worker's CPU goes: runs a module (the worker) with a sampler beside it.

    python bench/cpu_profile.py OUT.json -m newsletter worker ...

Every INTERVAL of CPU the sampler reads each thread's CPU clock and charges what the thread
used since the last look to the stack it is in now, so blocked threads cost nothing. A
stack goes to the first stage, from the innermost frame out, whose file it names. The
totals are written to OUT.json while the worker runs and at exit.
py-spy would need ptrace, which containers often forbid; this needs nothing.
"""

from __future__ import annotations

import atexit
import collections
import json
import os
import runpy
import signal
import sys
import threading
import time

# (stage, what a frame's file path contains), tried in this order for each frame.
STAGES = [
    ("sign", ("newsletter/signing.py", "/dkim/", "/cryptography/")),
    ("SMTP", ("sending/pipeline.py", "/smtplib.py", "/socket.py", "/ssl.py")),
    ("throttle (Redis)", ("sending/throttle.py", "/redis/")),
    (
        "build",
        (
            "sending/letter.py",
            "newsletter/mailer.py",
            "newsletter/links.py",
            "digest/render.py",
            "newsletter/lists/",
            "bounces/verp.py",
            "/itsdangerous/",
        ),
    ),
    (
        "bookkeeping (SQL)",
        ("newsletter/sending/", "/sqlalchemy/", "/psycopg/", "/flask_sqlalchemy/"),
    ),
    ("Celery", ("/celery/", "/kombu/", "/billiard/", "/vine/", "worker/tasks.py")),
]
INTERVAL = 0.001  # seconds of the process's CPU time


def stage_of(frame) -> str:
    while frame is not None:
        path = frame.f_code.co_filename
        for stage, parts in STAGES:
            if any(part in path for part in parts):
                return stage
        frame = frame.f_back
    return "other"


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
    """Charges each thread's CPU since the last sample to the stack it is in now.

    Samples come with SIGPROF, after every INTERVAL of the process's CPU time, and Python
    handles them in the main thread between two of its bytecodes: with the solo pool the
    main thread does all the work, so every sample lands where the CPU went. Other threads
    are caught wherever they gave up the GIL, which favours the points where they wait.
    """

    def __init__(self, out: str):
        self.out = out
        self.stages: dict[str, float] = collections.Counter()
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
                self.stages[stage_of(frame)] += spent
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
                "stages": dict(self.stages),
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
    Sampler(out).start()
    sys.argv = [module, *args]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
