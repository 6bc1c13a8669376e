"""A `LimitStore` on Redis: one Lua script runs each batch of claims and releases atomically."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from redis.asyncio import Redis
from redis.exceptions import RedisError

from storage.limits import (
    Claim,
    Counter,
    LimitStoreUnavailableError,
    Slot,
    Take,
    check_amount,
)
from storage.redis_batch import BatchedScript

__all__ = ["RedisLimitStore"]

# One call runs a batch of operations, each atomic. ARGV holds, per operation: its name ("claim"
# or "unclaim"), its key count n, then four arguments per key: kind ("c" counter / "s" slot),
# amount or holder, limit, expiry ms (the last two unused by "unclaim").
# A claim takes its claims in order; the first refusal undoes the earlier ones and ends it. It
# replies {allowed, used, reset ms} per claim tried. An unclaim gives counters back (never below
# zero; an absent, expired counter stays absent) and releases slots; it replies with nothing.
# Slots are sorted sets of holder -> lease end (ms), judged by the server's clock, so router
# processes with skewed clocks still agree on which leases are live.
BATCH = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)

local function undo(key, kind, what)
  if kind == 'c' then
    if redis.call('EXISTS', key) == 1 and redis.call('DECRBY', key, what) < 0 then
      redis.call('SET', key, 0, 'KEEPTTL')
    end
  else
    redis.call('ZREM', key, what)
  end
end

local function take(key, amount, limit, expiry)
  local used = tonumber(redis.call('GET', key) or '0')
  local allowed = 1
  if used + amount > limit then
    allowed = 0
  else
    used = redis.call('INCRBY', key, amount)
    if redis.call('PTTL', key) < 0 then redis.call('PEXPIREAT', key, expiry) end
  end
  local ends = redis.call('PEXPIRETIME', key)
  if ends >= 0 then return {allowed, used, ends} end
  return {allowed, used, tonumber(expiry)}
end

local function acquire(key, holder, limit, expiry)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  local holding = redis.call('ZSCORE', key, holder)
  local used = redis.call('ZCARD', key)
  if not holding and used >= limit then
    local first = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    return {0, used, tonumber(first[2] or expiry)}
  end
  redis.call('ZADD', key, expiry, holder)
  if not holding then used = used + 1 end
  local last = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  redis.call('PEXPIREAT', key, last[2])
  return {1, used, tonumber(expiry)}
end

local function claim(k, a, n)
  local replies = {}
  for i = 1, n do
    local kind, what, limit, expiry = ARGV[a+4*i-3], ARGV[a+4*i-2], ARGV[a+4*i-1], ARGV[a+4*i]
    if kind == 'c' then
      replies[i] = take(KEYS[k+i], tonumber(what), tonumber(limit), expiry)
    else
      replies[i] = acquire(KEYS[k+i], what, tonumber(limit), expiry)
    end
    if replies[i][1] == 0 then
      for j = 1, i - 1 do undo(KEYS[k+j], ARGV[a+4*j-3], ARGV[a+4*j-2]) end
      return replies
    end
  end
  return replies
end

local replies, k, a = {}, 0, 1
while a <= #ARGV do
  local name, n = ARGV[a], tonumber(ARGV[a+1])
  if name == 'claim' then
    replies[#replies+1] = claim(k, a+1, n)
  else
    for i = 1, n do undo(KEYS[k+i], ARGV[a+1+4*i-3], ARGV[a+1+4*i-2]) end
    replies[#replies+1] = {}
  end
  k, a = k + n, a + 2 + 4 * n
end
return replies
"""


class RedisLimitStore:
    """Counters as Redis strings and concurrency leases as sorted sets, under `prefix`."""

    def __init__(self, client: Redis, prefix: str = "tts-router:") -> None:
        self._client = client
        self._prefix = prefix
        self._batch = BatchedScript(client.register_script(BATCH))

    async def claim(self, claims: Sequence[Claim]) -> list[Take]:
        """Every claim in one atomic step; the first refusal undoes the ones before it."""
        if not claims:
            return []
        keys, args = self._layout(claims)
        try:
            replies = await self._batch.call("claim", keys, args)
        except (RedisError, OSError) as exc:
            raise LimitStoreUnavailableError(f"Redis is unreachable: {exc}") from exc
        takes = []
        for claim, reply in zip(claims, replies, strict=False):
            allowed, used, reset_ms = (int(item) for item in reply)
            takes.append(Take(bool(allowed), used, claim.limit, _from_ms(reset_ms)))
        return takes

    async def unclaim(self, claims: Sequence[Claim]) -> None:
        """Give back counters and release slots, in one atomic step."""
        if not claims:
            return
        try:
            await self._batch.call("unclaim", *self._layout(claims))
        except (RedisError, OSError) as exc:
            raise LimitStoreUnavailableError(f"Redis is unreachable: {exc}") from exc

    async def take(self, key: str, amount: int, limit: int, expires_at: datetime) -> Take:
        """Add `amount` to `key` if the result stays within `limit`; else change nothing."""
        return (await self.claim([Counter(key, amount, limit, expires_at)]))[0]

    async def give_back(self, key: str, amount: int) -> None:
        """Subtract `amount` from `key`, never going below zero."""
        await self.unclaim([Counter(key, amount, 0, _EPOCH)])

    async def acquire(self, key: str, holder: str, limit: int, lease_until: datetime) -> Take:
        """Hold one of `limit` slots of `key` for `holder`; re-acquiring extends the lease."""
        return (await self.claim([Slot(key, holder, limit, lease_until)]))[0]

    async def release(self, key: str, holder: str) -> None:
        """Free the slot `holder` holds on `key`, if any."""
        await self.unclaim([Slot(key, holder, 0, _EPOCH)])

    @classmethod
    def from_url(
        cls, url: str, prefix: str = "tts-router:", timeout: float = 2.0
    ) -> RedisLimitStore:
        """A store with its own client for `url` (e.g. `redis://127.0.0.1:6379/0`).

        Each connection and command gives up after `timeout` seconds, so that an outage is
        noticed rather than waited out.
        """
        client = Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
        return cls(client, prefix)

    async def close(self) -> None:
        """Close the client and its connection pool."""
        await self._client.aclose()

    def _layout(self, claims: Sequence[Claim]) -> tuple[list[str], list[str | int]]:
        keys: list[str] = []
        args: list[str | int] = []
        for claim in claims:
            if isinstance(claim, Counter):
                check_amount(claim.amount)
                keys.append(f"{self._prefix}counter:{claim.key}")
                args += ["c", claim.amount, claim.limit, _to_ms(claim.expires_at)]
            else:
                keys.append(f"{self._prefix}leases:{claim.key}")
                args += ["s", claim.holder, claim.limit, _to_ms(claim.lease_until)]
        return keys, args


_EPOCH = datetime.fromtimestamp(0, UTC)


def _to_ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("naive datetime given for a limit expiry")
    return int(moment.timestamp() * 1000)


def _from_ms(milliseconds: int) -> datetime:
    return datetime.fromtimestamp(milliseconds / 1000, UTC)
