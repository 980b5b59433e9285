"""An LRU of loaded voices, bounded by count and by memory, safe under concurrent requests."""

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Generic, Protocol, TypeVar


class Sized(Protocol):
    """Anything the cache holds: it reports how much memory it takes."""

    size_bytes: int


T = TypeVar("T", bound=Sized)


@dataclass
class CacheStats:
    """Counters that tests and /metrics read instead of timing."""

    hits: int = 0
    misses: int = 0
    loads: int = 0
    evictions: int = 0


class VoiceCache(Generic[T]):
    """Keeps the most recently used voices; a cold voice is loaded once, however many ask."""

    def __init__(self, *, max_items: int, max_bytes: int) -> None:
        self.max_items = max_items
        self.max_bytes = max_bytes
        self.stats = CacheStats()
        self._items: OrderedDict[str, T] = OrderedDict()
        self._lock = threading.Lock()
        self._loading: dict[str, threading.Lock] = {}

    def get(self, key: str, load: Callable[[], T]) -> T:
        """The cached value for key, loading it with load() on a miss."""
        with self._lock:
            if key in self._items:
                self.stats.hits += 1
                self._items.move_to_end(key)
                return self._items[key]
            self.stats.misses += 1
            key_lock = self._loading.setdefault(key, threading.Lock())
        with key_lock:
            return self._load_once(key, load)

    def _load_once(self, key: str, load: Callable[[], T]) -> T:
        """Load under the key's lock, unless a concurrent request just did."""
        with self._lock:
            if key in self._items:
                return self._items[key]
        value = load()
        with self._lock:
            self.stats.loads += 1
            self._items[key] = value
            self._items.move_to_end(key)
            self._evict()
            self._loading.pop(key, None)
        return value

    def _evict(self) -> None:
        """Drop least recently used voices until both bounds hold; always keep the newest."""
        while len(self._items) > 1 and (
            len(self._items) > self.max_items or self.total_bytes() > self.max_bytes
        ):
            self._items.popitem(last=False)
            self.stats.evictions += 1

    def total_bytes(self) -> int:
        """Memory held by cached voices."""
        return sum(item.size_bytes for item in self._items.values())

    def summary(self) -> dict[str, object]:
        """What the cache holds and how often it was hit, for the admin's stats route."""
        return {"items": len(self), "bytes": self.total_bytes(), **asdict(self.stats)}

    def discard(self, key: str) -> None:
        """Forget a voice, e.g. when its job is deleted."""
        with self._lock:
            self._items.pop(key, None)

    def __len__(self) -> int:
        return len(self._items)
