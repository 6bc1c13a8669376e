"""A `LimitStore` on Redis: each operation is one Lua script, so one atomic round trip."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis

from storage.limits import Claim, Counter, Take, check_amount
from storage.redis_pipeline import AutoPipeline

__all__ = ["RedisLimitStore"]

# Returns {allowed, value, expiry ms}. A refused take leaves the counter alone; the expiry is set
# only when the counter has none, so the first take of a window fixes when it ends.
TAKE = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local amount = tonumber(ARGV[1])
if current + amount > tonumber(ARGV[2]) then
  return {0, current, redis.call('PEXPIRETIME', KEYS[1])}
end
local value = redis.call('INCRBY', KEYS[1], amount)
if redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('PEXPIREAT', KEYS[1], ARGV[3])
end
return {1, value, redis.call('PEXPIRETIME', KEYS[1])}
"""

# An absent (expired) counter stays absent rather than coming back without an expiry.
GIVE_BACK = """
if redis.call('EXISTS', KEYS[1]) == 1 and redis.call('DECRBY', KEYS[1], ARGV[1]) < 0 then
  redis.call('SET', KEYS[1], 0, 'KEEPTTL')
end
"""

# KEYS[1] is a sorted set of holder -> lease end (ms). Expiry is judged by the server's clock,
# so router processes with skewed clocks still agree on which leases are live.
ACQUIRE = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local holding = redis.call('ZSCORE', KEYS[1], ARGV[1])
local count = redis.call('ZCARD', KEYS[1])
if not holding and count >= tonumber(ARGV[2]) then
  local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {0, count, tonumber(first[2] or ARGV[3])}
end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
if not holding then
  count = count + 1
end
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[1], last[2])
return {1, count, tonumber(ARGV[3])}
"""


# KEYS: one per claim. ARGV: per claim, kind ("c" counter / "s" slot), amount or holder, limit,
# expiry ms. Claims are taken in order; the first refusal undoes the earlier ones and ends it.
# Returns {allowed, used, reset ms} per claim tried.
CLAIM = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local replies = {}
for i = 1, #KEYS do
  local kind, what, limit, expiry = ARGV[4*i-3], ARGV[4*i-2], tonumber(ARGV[4*i-1]), ARGV[4*i]
  local allowed, used, reset = 1, 0, tonumber(expiry)
  if kind == 'c' then
    local amount = tonumber(what)
    used = tonumber(redis.call('GET', KEYS[i]) or '0')
    if used + amount > limit then
      allowed = 0
    else
      used = redis.call('INCRBY', KEYS[i], amount)
      if redis.call('PTTL', KEYS[i]) < 0 then redis.call('PEXPIREAT', KEYS[i], expiry) end
    end
    local ends = redis.call('PEXPIRETIME', KEYS[i])
    if ends >= 0 then reset = ends end
  else
    redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now)
    local holding = redis.call('ZSCORE', KEYS[i], what)
    used = redis.call('ZCARD', KEYS[i])
    if not holding and used >= limit then
      allowed = 0
      local first = redis.call('ZRANGE', KEYS[i], 0, 0, 'WITHSCORES')
      reset = tonumber(first[2] or expiry)
    else
      redis.call('ZADD', KEYS[i], expiry, what)
      if not holding then used = used + 1 end
      local last = redis.call('ZRANGE', KEYS[i], -1, -1, 'WITHSCORES')
      redis.call('PEXPIREAT', KEYS[i], last[2])
    end
  end
  replies[i] = {allowed, used, reset}
  if allowed == 0 then
    for j = 1, i - 1 do
      if ARGV[4*j-3] == 'c' then
        redis.call('DECRBY', KEYS[j], ARGV[4*j-2])
      else
        redis.call('ZREM', KEYS[j], ARGV[4*j-2])
      end
    end
    return replies
  end
end
return replies
"""

# The same layout as CLAIM: counters are given back (never below zero), slots released.
UNCLAIM = """
for i = 1, #KEYS do
  if ARGV[2*i-1] == 'c' then
    if redis.call('EXISTS', KEYS[i]) == 1 and redis.call('DECRBY', KEYS[i], ARGV[2*i]) < 0 then
      redis.call('SET', KEYS[i], 0, 'KEEPTTL')
    end
  else
    redis.call('ZREM', KEYS[i], ARGV[2*i])
  end
end
"""


class RedisLimitStore:
    """Counters as Redis strings and concurrency leases as sorted sets, under `prefix`."""

    def __init__(self, client: Redis, prefix: str = "tts-router:") -> None:
        self._client = client
        self._prefix = prefix
        self._take = client.register_script(TAKE)
        self._give_back = client.register_script(GIVE_BACK)
        self._acquire = client.register_script(ACQUIRE)
        self._claim = client.register_script(CLAIM)
        self._unclaim = client.register_script(UNCLAIM)
        self._batched = AutoPipeline(client)

    async def claim(self, claims: Sequence[Claim]) -> list[Take]:
        """Every claim in one atomic script; the first refusal undoes the ones before it."""
        keys: list[str] = []
        args: list[str | int] = []
        for claim in claims:
            if isinstance(claim, Counter):
                check_amount(claim.amount)
                keys.append(self._counter(claim.key))
                args += ["c", claim.amount, claim.limit, _to_ms(claim.expires_at)]
            else:
                keys.append(self._leases(claim.key))
                args += ["s", claim.holder, claim.limit, _to_ms(claim.lease_until)]
        replies = await self._batched.call(self._claim, keys, args) if claims else []
        takes = []
        for claim, reply in zip(claims, replies, strict=False):
            allowed, used, reset_ms = _three_ints(reply)
            takes.append(Take(bool(allowed), used, claim.limit, _from_ms(reset_ms)))
        return takes

    async def unclaim(self, claims: Sequence[Claim]) -> None:
        """Give back counters and release slots, in one script."""
        keys: list[str] = []
        args: list[str | int] = []
        for claim in claims:
            if isinstance(claim, Counter):
                keys.append(self._counter(claim.key))
                args += ["c", claim.amount]
            else:
                keys.append(self._leases(claim.key))
                args += ["s", claim.holder]
        if keys:
            await self._batched.call(self._unclaim, keys, args)

    @classmethod
    def from_url(cls, url: str, prefix: str = "tts-router:") -> RedisLimitStore:
        """A store with its own client for `url` (e.g. `redis://127.0.0.1:6379/0`)."""
        return cls(Redis.from_url(url), prefix)

    async def take(self, key: str, amount: int, limit: int, expires_at: datetime) -> Take:
        """Add `amount` to `key` if the result stays within `limit`; else change nothing."""
        check_amount(amount)
        reply = await self._take(
            keys=[self._counter(key)], args=[amount, limit, _to_ms(expires_at)]
        )
        allowed, used, expiry_ms = _three_ints(reply)
        # A missing counter reports -2 and one without expiry -1; the caller's window end stands.
        reset_at = _from_ms(expiry_ms) if expiry_ms >= 0 else expires_at
        return Take(bool(allowed), used, limit, reset_at)

    async def give_back(self, key: str, amount: int) -> None:
        """Subtract `amount` from `key`, never going below zero."""
        check_amount(amount)
        await self._give_back(keys=[self._counter(key)], args=[amount])

    async def acquire(self, key: str, holder: str, limit: int, lease_until: datetime) -> Take:
        """Hold one of `limit` slots of `key` for `holder`; re-acquiring extends the lease."""
        reply = await self._acquire(
            keys=[self._leases(key)], args=[holder, limit, _to_ms(lease_until)]
        )
        allowed, used, reset_ms = _three_ints(reply)
        return Take(bool(allowed), used, limit, _from_ms(reset_ms))

    async def release(self, key: str, holder: str) -> None:
        """Free the slot `holder` holds on `key`, if any."""
        await self._client.zrem(self._leases(key), holder)

    async def close(self) -> None:
        """Close the client and its connection pool."""
        await self._client.aclose()

    def _counter(self, key: str) -> str:
        return f"{self._prefix}counter:{key}"

    def _leases(self, key: str) -> str:
        return f"{self._prefix}leases:{key}"


def _three_ints(reply: Any) -> tuple[int, int, int]:
    first, second, third = (int(item) for item in reply)
    return first, second, third


def _to_ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("naive datetime given for a limit expiry")
    return int(moment.timestamp() * 1000)


def _from_ms(milliseconds: int) -> datetime:
    return datetime.fromtimestamp(milliseconds / 1000, UTC)
