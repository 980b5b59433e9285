"""Sentence splitting, text checks and the voice cache, on their own."""

import threading
import time
from dataclasses import dataclass

import pytest

from voicesmith.errors import BadInput
from voicesmith.synthesis.cache import VoiceCache
from voicesmith.synthesis.text import MAX_CHUNK_CHARS, normalise, sentences


def test_sentences_split_on_ends_and_lines():
    text = normalise("One here. Two there!  Three?\nFour; five…  six", max_chars=100)
    assert sentences(text) == ["One here.", "Two there!", "Three?", "Four;", "five…", "six"]


def test_over_long_sentences_are_cut_at_commas_or_spaces():
    words = ", ".join(["a few words"] * 100)
    chunks = sentences(normalise(words, max_chars=5000))
    assert all(0 < len(c) <= MAX_CHUNK_CHARS for c in chunks)
    assert all(c.endswith("words") for c in chunks)  # cut at commas, not inside a phrase
    assert "".join(chunks).replace(",", "").replace(" ", "") == words.replace(",", "").replace(
        " ", ""
    )


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("", "empty"),
        (" \t\n ", "empty"),
        ("?!...", "no letters"),
        ("x" * 11, "limit is 10"),
    ],
)
def test_normalise_refuses_unspeakable_text(text, needle):
    with pytest.raises(BadInput, match=needle):
        normalise(text, max_chars=10)


@dataclass
class Blob:
    """Something cacheable of a given size."""

    size_bytes: int


def test_cache_evicts_least_recently_used_by_count_and_memory():
    cache: VoiceCache[Blob] = VoiceCache(max_items=2, max_bytes=100)
    cache.get("a", lambda: Blob(10))
    cache.get("b", lambda: Blob(10))
    cache.get("a", lambda: Blob(10))  # a is now the most recent
    cache.get("c", lambda: Blob(10))
    assert cache.stats.evictions == 1 and len(cache) == 2
    cache.get("a", lambda: Blob(10))
    assert cache.stats.loads == 3  # b was evicted, a stayed
    cache.get("big", lambda: Blob(95))
    assert len(cache) == 1 and cache.total_bytes() == 95


def test_concurrent_requests_for_a_cold_voice_load_it_once():
    cache: VoiceCache[Blob] = VoiceCache(max_items=4, max_bytes=10**9)
    loads = []

    def slow_load() -> Blob:
        loads.append(1)
        time.sleep(0.2)
        return Blob(1)

    threads = [threading.Thread(target=cache.get, args=("v", slow_load)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(loads) == 1 and cache.stats.loads == 1 and cache.stats.misses == 8
