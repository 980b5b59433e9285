"""The Wyoming protocol for Home Assistant: events in, the publishing service, audio events out."""

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.error import Error
from wyoming.event import Event, async_read_event
from wyoming.info import Attribution, Describe, Info, TtsProgram, TtsVoice
from wyoming.server import AsyncEventHandler
from wyoming.tts import (
    Synthesize,
    SynthesizeChunk,
    SynthesizeStart,
    SynthesizeStop,
    SynthesizeStopped,
    SynthesizeVoice,
)

from voicesmith.errors import BadInput, VoicesmithError
from voicesmith.synthesis import publishing
from voicesmith.synthesis.service import Synthesizer
from voicesmith.synthesis.text import complete_sentences

log = logging.getLogger(__name__)
WIDTH, CHANNELS = 2, 1  # 16-bit mono, what Home Assistant plays without converting
SAMPLES_PER_CHUNK = 1024  # as wyoming-piper sends: small events keep playback smooth
# A TTS client sends only text; a frame bigger than this is hostile, not a long request.
MAX_FRAME_BYTES = 1 << 20
# A declared length that never arrives would hold the connection open for ever.
BODY_TIMEOUT_S = 30.0
ATTRIBUTION = Attribution(name="voicesmith", url="https://github.com/voicesmith/voicesmith")


class FrameError(Exception):
    """A frame that breaks the protocol; its connection is closed."""


@dataclass(frozen=True)
class WyomingContext:
    """What every connection shares: the database and the synthesizer with its voice cache."""

    sessions: sessionmaker[Session]
    synth: Synthesizer


@dataclass
class _Stream:
    """A streamed request (synthesize-start ... synthesize-stop) in progress."""

    voice: str | None
    buffer: str = ""
    chars: int = 0
    rate: int | None = None  # set once audio-start has gone out
    failed: bool = False


class _Guarded:
    """The connection's reader, refusing oversized bodies and ones that never arrive."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self._reader = reader

    async def readline(self) -> bytes:
        """A header line; asyncio's 64 KiB line limit turns a longer one into a closed frame."""
        return await self._reader.readline()

    async def readexactly(self, n: int) -> bytes:
        """A data or payload body of the declared length."""
        if not isinstance(n, int) or n > MAX_FRAME_BYTES:
            raise FrameError(f"declared body of {n!r} bytes; the limit is {MAX_FRAME_BYTES}")
        try:
            return await asyncio.wait_for(self._reader.readexactly(n), BODY_TIMEOUT_S)
        except TimeoutError as exc:
            raise FrameError(f"a {n}-byte body did not arrive in {BODY_TIMEOUT_S:.0f} s") from exc


class VoiceHandler(AsyncEventHandler):
    """One client connection: describe, synthesize, and the streaming form."""

    def __init__(
        self, context: WyomingContext, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        super().__init__(reader, writer)
        self.context = context
        self.stream: _Stream | None = None

    async def run(self) -> None:
        """Handle events until the client leaves; a broken frame closes this connection only."""
        try:
            while (event := await self._read()) is not None:
                if not await self.handle_event(event):
                    break
        except (FrameError, ConnectionError) as exc:
            log.info("wyoming: closing a connection: %s", exc)
        except Exception:
            # A bug must cost this client its connection, never the server its other clients.
            log.exception("wyoming: closing a connection after an unexpected error")
        finally:
            await self.disconnect()
            self.writer.close()

    async def _read(self) -> Event | None:
        """The next event, or None at the end; malformed JSON the library reports as None."""
        try:
            return await async_read_event(_Guarded(self.reader))  # type: ignore[arg-type]
        except asyncio.IncompleteReadError as exc:
            raise FrameError(f"the connection ended inside a frame: {exc}") from exc
        except (KeyError, TypeError, AttributeError) as exc:
            raise FrameError(f"malformed header: {exc!r}") from exc

    async def handle_event(self, event: Event) -> bool:
        """Answer one event; errors a person can act on go back as `error` events."""
        try:
            await self._dispatch(event)
        except VoicesmithError as exc:
            if self.stream is not None:
                self.stream.failed = True
            await self.write_event(Error(text=exc.detail, code=type(exc).__name__).event())
        return True

    async def _dispatch(self, event: Event) -> None:
        """Route an event to its handler by type."""
        if Describe.is_type(event.type):
            await self._describe()
        elif Synthesize.is_type(event.type):
            await self._synthesize(_parsed(Synthesize.from_event, event))
        elif SynthesizeStart.is_type(event.type):
            await self._start(_parsed(SynthesizeStart.from_event, event))
        elif SynthesizeChunk.is_type(event.type):
            await self._chunk(_parsed(SynthesizeChunk.from_event, event))
        elif SynthesizeStop.is_type(event.type):
            await self._stop()
        else:
            log.debug("wyoming: ignoring a %s event", event.type)

    async def _describe(self) -> None:
        """The info event: one TTS program, one voice per published voice."""
        voices = await asyncio.to_thread(self._published)
        await self.write_event(info(voices).event())

    def _published(self) -> list[publishing.PublishedVoice]:
        """The published voices, read in a worker thread."""
        with self.context.sessions() as session:
            return publishing.published_voices(session=session)

    async def _synthesize(self, request: Synthesize) -> None:
        """The whole text at once: audio-start, chunks sentence by sentence, audio-stop."""
        if self.stream is not None:
            return  # Home Assistant repeats a streamed text whole for servers that cannot stream
        rate = await self._speak(_voice_name(request.voice), request.text, rate=None)
        await self.write_event(AudioStop().event())
        log.info("wyoming: spoke %d characters at %d Hz", len(request.text), rate)

    async def _start(self, request: SynthesizeStart) -> None:
        """Begin a streamed request; the voice is checked now, not at the first sentence."""
        name = _voice_name(request.voice)
        self.stream = _Stream(voice=name)
        await asyncio.to_thread(self._check_voice, name)

    def _check_voice(self, name: str | None) -> None:
        """NotFound unless name is published (or none is named and one is)."""
        with self.context.sessions() as session:
            publishing.published_name(session=session, name=name)

    async def _chunk(self, chunk: SynthesizeChunk) -> None:
        """Add streamed text; speak every sentence it completes."""
        stream = self._streaming()
        if stream.failed:
            return
        stream.chars += len(chunk.text)
        limit = self.context.synth.settings.max_synthesis_chars
        if stream.chars > limit:
            raise BadInput(f"streamed text passed {limit} characters, the limit; split it up")
        done, stream.buffer = complete_sentences(stream.buffer + chunk.text)
        for sentence in done:
            stream.rate = await self._speak(stream.voice, sentence, rate=stream.rate)

    async def _stop(self) -> None:
        """Speak what is left, then audio-stop and synthesize-stopped."""
        stream = self._streaming()
        self.stream = None
        if not stream.failed and stream.buffer.strip():
            # A tail with nothing speakable ("...") ends the stream; it is no error.
            with contextlib.suppress(BadInput):
                stream.rate = await self._speak(stream.voice, stream.buffer, rate=stream.rate)
        if stream.rate is not None:
            await self.write_event(AudioStop().event())
        await self.write_event(SynthesizeStopped().event())

    def _streaming(self) -> _Stream:
        """The streamed request in progress; BadInput outside one."""
        if self.stream is None:
            raise BadInput("synthesize-chunk and synthesize-stop need a synthesize-start first")
        return self.stream

    async def _speak(self, name: str | None, text: str, *, rate: int | None) -> int:
        """Send text's audio, after audio-start unless one went out (rate given); the rate."""
        ctx = self.context
        speech = await asyncio.to_thread(
            publishing.speak_published, sessions=ctx.sessions, synth=ctx.synth, name=name, text=text
        )
        if rate is None:
            rate = speech.rate
            await self.write_event(AudioStart(rate=rate, width=WIDTH, channels=CHANNELS).event())
        while (pcm := await asyncio.to_thread(next, speech.chunks, None)) is not None:
            for piece in _pieces(pcm):
                await self.write_event(
                    AudioChunk(rate=rate, width=WIDTH, channels=CHANNELS, audio=piece).event()
                )
        return rate


def info(voices: list[publishing.PublishedVoice]) -> Info:
    """What `describe` answers: one streaming-capable TTS program with the published voices."""
    tts_voices = [
        TtsVoice(
            name=voice.name,
            attribution=ATTRIBUTION,
            installed=True,
            description=voice.description,
            version=None,
            languages=[voice.language],
        )
        for voice in voices
    ]
    program = TtsProgram(
        name="voicesmith",
        attribution=ATTRIBUTION,
        installed=True,
        description="Voices trained on your own recordings with voicesmith",
        version="0.1.0",
        voices=tts_voices,
        supports_synthesize_streaming=True,
    )
    return Info(tts=[program])


def _voice_name(voice: SynthesizeVoice | None) -> str | None:
    """The voice a request names; a language alone names none."""
    return voice.name if voice is not None and voice.name else None


def _parsed(parse, event: Event):
    """An event's typed form; a missing or wrong field is bad input, not a crash."""
    try:
        return parse(event)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise BadInput(f"malformed {event.type} event: {exc!r}") from exc


def _pieces(pcm: bytes) -> Iterator[bytes]:
    """PCM bytes cut into audio-chunk payloads of SAMPLES_PER_CHUNK samples."""
    step = SAMPLES_PER_CHUNK * WIDTH * CHANNELS
    for start in range(0, len(pcm), step):
        yield pcm[start : start + step]
