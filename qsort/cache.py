"""The shared cache on Redis, where an outage is a miss rather than a server error.

Everything qsort keeps in the cache can go without it for a while: rate-limit counts and sign-in
lockouts fail open (settings.RATELIMIT_FAIL_OPEN), computed panels are computed again, an import
preview is asked for again. Django's own Redis backend raises on a lost connection, which turned
every participant's autosave and submit into a 500 while Redis was down (benchmarks/load.py,
--stop-redis); this one logs a warning and answers as if the key were not there.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)


def _missing_when_down(method: Callable[..., Any], missing: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(method)
    def call(self: RedisCacheClient, *args: Any) -> Any:
        try:
            return method(self, *args)
        except (RedisConnectionError, RedisTimeoutError) as error:
            logger.warning("Cache unavailable, %s treated as a miss: %s", method.__name__, error)
            return missing(*args)

    return call


def _absent_key(*_args: Any) -> Any:
    # What Django's cache API says for a key that is not there (the counters' callers catch it).
    raise ValueError("Key not found (the cache is unavailable).")


class FailOpenRedisCacheClient(RedisCacheClient):
    """Reads find nothing, writes store nothing, while Redis cannot be reached."""

    add = _missing_when_down(RedisCacheClient.add, lambda *_args: False)
    get = _missing_when_down(RedisCacheClient.get, lambda _key, default: default)
    set = _missing_when_down(RedisCacheClient.set, lambda *_args: None)
    touch = _missing_when_down(RedisCacheClient.touch, lambda *_args: False)
    delete = _missing_when_down(RedisCacheClient.delete, lambda *_args: False)
    get_many = _missing_when_down(RedisCacheClient.get_many, lambda *_args: {})
    has_key = _missing_when_down(RedisCacheClient.has_key, lambda *_args: False)
    incr = _missing_when_down(RedisCacheClient.incr, _absent_key)
    set_many = _missing_when_down(RedisCacheClient.set_many, lambda *_args: [])
    delete_many = _missing_when_down(RedisCacheClient.delete_many, lambda *_args: None)
    clear = _missing_when_down(RedisCacheClient.clear, lambda *_args: False)


class FailOpenRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = FailOpenRedisCacheClient
