"""Sends-per-second limits per channel, shared by every worker through Redis.

A token bucket on Redis's clock: a dispatcher takes as many send slots as it can use at once and
claims only that many messages. Messages waiting for a slot stay in the database untouched, so a
backlog costs nothing while it waits (SPEC §2), and the bucket holds at most one second's worth,
so a quiet channel cannot save up a burst above its limit.
"""

from __future__ import annotations

from dataclasses import dataclass

from redis import Redis

# KEYS[1]: the bucket. ARGV: rate per second, slots wanted. Returns {granted, seconds to wait
# for the next slot (as a string: Lua numbers become integers)}.
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local rate = tonumber(ARGV[1])
local wanted = tonumber(ARGV[2])
local capacity = math.max(1, rate)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or capacity
local at = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - at) * rate)
local granted = math.min(wanted, math.floor(tokens))
tokens = tokens - granted
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / rate * 1000) + 1000)
local wait = 0
if granted < wanted then
    wait = (1 - (tokens - math.floor(tokens))) / rate
end
return {granted, tostring(wait)}
"""

_GIVE_BACK = """
local tokens = tonumber(redis.call('HGET', KEYS[1], 'tokens'))
if tokens then
    local capacity = math.max(1, tonumber(ARGV[1]))
    redis.call('HSET', KEYS[1], 'tokens', tostring(math.min(capacity, tokens + tonumber(ARGV[2]))))
end
return 1
"""


@dataclass(frozen=True)
class Slots:
    granted: int
    # Seconds until the next slot frees up when fewer were granted than wanted, else 0.
    wait: float


def take(redis: Redis, key: str, per_second: float, wanted: int) -> Slots:
    """Take up to ``wanted`` send slots on the bucket ``key``."""
    if per_second <= 0:
        return Slots(granted=wanted, wait=0.0)
    granted, wait = redis.eval(_TAKE, 1, key, per_second, wanted)
    return Slots(granted=int(granted), wait=float(wait))


def give_back(redis: Redis, key: str, per_second: float, unused: int) -> None:
    """Return slots taken for messages that turned out not to be there."""
    if per_second > 0 and unused > 0:
        redis.eval(_GIVE_BACK, 1, key, per_second, unused)
