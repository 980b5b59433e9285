"""The one Huey instance per process, chosen from settings, and the embedded consumer."""

import signal
import threading

from huey import RedisHuey, SqliteHuey
from huey.api import Huey
from huey.consumer import Consumer

from voicesmith.config import Settings

QUEUE_NAME = "voicesmith"
# Speech recognition has its own queue and consumer, so it never waits behind a training job.
ASR_QUEUE_NAME = "voicesmith-asr"
POLL_MAX_SECONDS = 0.5


def build_huey(settings: Settings, name: str = QUEUE_NAME) -> Huey:
    """SqliteHuey in the data dir, or RedisHuey when VOICESMITH_QUEUE_URL is a redis:// URL."""
    url = settings.queue_url
    if url and url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey(name, url=url, results=False, utc=True)
    if url:
        raise ValueError(f"VOICESMITH_QUEUE_URL must be a redis:// URL, not {url!r}")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    path = settings.data_dir / "queue.db"
    return SqliteHuey(name, filename=str(path), results=False, utc=True, timeout=30)


class JobConsumer(Consumer):
    """A thread consumer that tells running jobs to stop before it waits for them."""

    def __init__(self, huey: Huey, stop_event: threading.Event, workers: int = 1) -> None:
        # Huey backs off to 10 s between polls of an idle queue; a job should start at once.
        super().__init__(
            huey, workers=workers, worker_type="thread", periodic=False, max_delay=POLL_MAX_SECONDS
        )
        self.stop_event = stop_event

    def stop(self, graceful: bool = False) -> None:
        """Stop running jobs (they save and exit within the grace period), then the threads."""
        self.stop_event.set()
        super().stop(graceful=True)

    def _set_signal_handlers(self) -> None:
        """Huey's handlers; a stop asked for before they existed still stops the consumer."""
        super()._set_signal_handlers()
        if self.stop_event.is_set():
            self._signum = signal.SIGTERM


class EmbeddedConsumer(JobConsumer):
    """A consumer that runs beside uvicorn, which owns the process's signals."""

    def _set_signal_handlers(self) -> None:
        """Leave signal handling to the host process."""


def start_embedded_consumer(huey: Huey, stop_event: threading.Event) -> Consumer:
    """Start one worker thread in this process; it runs one job at a time."""
    consumer = EmbeddedConsumer(huey, stop_event)
    consumer.start()
    return consumer
