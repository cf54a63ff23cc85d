"""Sends-per-second limits per channel, shared by every worker through Redis."""

from __future__ import annotations

from redis import Redis

# A fixed window per channel, timed by Redis's own clock so that workers on several hosts agree.
# Returns "0" when the send may go now, otherwise the seconds until the next window opens.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local window = tonumber(ARGV[1])
local allowed = tonumber(ARGV[2])
local slot = math.floor(now / window)
local key = KEYS[1] .. ':' .. slot
local used = redis.call('INCR', key)
if used == 1 then
    redis.call('PEXPIRE', key, math.ceil(window * 1000) + 1000)
end
if used <= allowed then
    return '0'
end
return tostring((slot + 1) * window - now)
"""


def acquire(redis: Redis, key: str, per_second: float) -> float:
    """Take one send slot on ``channel``: 0.0 when granted, else seconds to wait for the next."""
    if per_second <= 0:
        return 0.0
    if per_second >= 1:
        window, allowed = 1.0, int(per_second)
    else:
        window, allowed = 1.0 / per_second, 1
    wait = redis.eval(_ACQUIRE, 1, key, window, allowed)
    return float(wait)
