"""One sending rate for the whole system, shared by every worker through Redis.

Each limit (messages per second, per hour) is a sliding window counter: this window's count
plus the previous window's, weighted by how much of it still overlaps. Workers ask for a few
permits at a time, so the limiter costs one Redis call per handful of messages. Without Redis
(the embedded broker) the same arithmetic runs in the process, which then limits itself only.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import redis
from flask import current_app


def rate_key(queue: str) -> str:
    """An installation's counts in Redis, named after its task queue as its other keys are:
    two installations sharing a Redis do not share a limit."""
    return f"{queue}:rate"


# Grants up to ARGV[1] permits under every (window seconds, limit) pair that follows,
# or none; returns the permits granted and, when none, the milliseconds to wait.
GRANT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local want = tonumber(ARGV[1])
local grant, wait = want, 0
local keys = {}
for i = 2, #ARGV, 2 do
  local window, limit = tonumber(ARGV[i]), tonumber(ARGV[i + 1])
  local current = math.floor(now / window)
  local prefix = KEYS[1] .. ':' .. window .. ':'
  local key = prefix .. current
  local previous = tonumber(redis.call('GET', prefix .. (current - 1)) or 0)
  local used = tonumber(redis.call('GET', key) or 0)
  local overlap = 1 - (now - current * window) / window
  local free = math.floor(limit - used - previous * overlap)
  if free < grant then grant = math.max(free, 0) end
  if free < 1 then wait = math.max(wait, (current + 1) * window - now) end
  keys[#keys + 1] = {key, window}
end
if grant > 0 then
  for _, k in ipairs(keys) do
    redis.call('INCRBY', k[1], grant)
    redis.call('EXPIRE', k[1], math.ceil(k[2] * 2))
  end
end
return {grant, math.ceil(wait * 1000)}
"""


@dataclass(frozen=True)
class Limits:
    per_second: int = 0
    per_hour: int = 0

    @property
    def windows(self) -> list[tuple[int, int]]:
        pairs = [(1, self.per_second), (3600, self.per_hour)]
        return [(window, limit) for window, limit in pairs if limit > 0]


class Throttle:
    """take(n) waits up to `patience` seconds for permits, and returns how many it got."""

    def __init__(self, limits: Limits, redis_url: str | None, key: str = rate_key("newsletter")):
        self.limits, self.key = limits, key
        self.client = redis.Redis.from_url(redis_url) if redis_url else None
        self.script = self.client.register_script(GRANT) if self.client else None
        self.local = _LocalWindows()

    def take(self, wanted: int, patience: float = 10.0) -> int:
        windows = self.limits.windows
        if not windows:
            return wanted
        deadline = time.monotonic() + patience
        while True:
            granted, wait_ms = self._grant(wanted, windows)
            if granted or time.monotonic() >= deadline:
                return granted
            # Short naps: the sliding count frees permits before the window ends.
            time.sleep(min(max(wait_ms, 5), 250) / 1000)

    def _grant(self, wanted: int, windows: list[tuple[int, int]]) -> tuple[int, int]:
        if self.script is None:
            return self.local.grant(wanted, windows)
        args = [wanted] + [value for pair in windows for value in pair]
        try:
            granted, wait_ms = self.script(keys=[self.key], args=args)
        except redis.RedisError:
            # No shared count, no permits: sending faster than the limit is the one
            # thing the limit must prevent. The batch waits, then gives its rows back.
            return 0, 1000
        return int(granted), int(wait_ms)


class _LocalWindows:
    """The Lua script's arithmetic, for one process."""

    def __init__(self):
        self.counts: dict[tuple[int, int], int] = {}
        self.lock = threading.Lock()

    def grant(self, wanted: int, windows: list[tuple[int, int]]) -> tuple[int, int]:
        with self.lock:
            now = time.time()
            grant, wait, keys = wanted, 0.0, []
            for window, limit in windows:
                current = int(now // window)
                previous = self.counts.get((window, current - 1), 0)
                used = self.counts.get((window, current), 0)
                overlap = 1 - (now - current * window) / window
                free = int(limit - used - previous * overlap)
                grant = min(grant, max(free, 0))
                if free < 1:
                    wait = max(wait, (current + 1) * window - now)
                keys.append((window, current))
            if grant > 0:
                # Only this window and the last count, as in Redis, where the keys EXPIRE
                # after two windows: a process that sent for months kept every second's.
                self.counts = {
                    (window, n): count
                    for (window, n), count in self.counts.items()
                    if n >= int(now // window) - 1
                }
                for key in keys:
                    self.counts[key] = self.counts.get(key, 0) + grant
            return grant, int(wait * 1000)


_throttles: dict[tuple, Throttle] = {}


def throttle() -> Throttle:
    """The process's throttle for the app's configured limits."""
    config = current_app.config
    limits = Limits(config["RATE_PER_SECOND"], config["RATE_PER_HOUR"])
    broker = config["BROKER_URL"]
    redis_url = broker if broker.startswith(("redis://", "rediss://")) else None
    name = rate_key(config["TASK_QUEUE"])
    if (limits, redis_url, name) not in _throttles:
        _throttles[limits, redis_url, name] = Throttle(limits, redis_url, name)
    return _throttles[limits, redis_url, name]
