"""Request bodies of the speech routes: ours, and OpenAI's speech body."""

from typing import Annotated, Literal

from pydantic import BaseModel, Field

Format = Literal["wav", "mp3", "ogg", "opus", "flac", "pcm"]


class SpeakRequest(BaseModel):
    """Text to speak with the base voice."""

    text: str = Field(max_length=1_000_000)
    format: Format = "wav"
    speed: float = Field(
        default=1.0, ge=0.25, le=4.0, description="speaking rate; 2 is twice as fast"
    )
    stream: bool = Field(default=False, description="send audio sentence by sentence (wav, pcm)")


class TrainedSpeakRequest(SpeakRequest):
    """The seed's body: text and the job (or alias) whose voice speaks it."""

    job_id: str = Field(max_length=256)


class AliasRequest(BaseModel):
    """Which job, and optionally which of its checkpoints, an alias names."""

    job_id: str = Field(max_length=256)
    checkpoint: str | None = Field(default=None, max_length=255)
    wyoming: bool = Field(
        default=False, description="serve this voice on the Wyoming (Home Assistant) server"
    )


class SpeechRequest(BaseModel):
    """OpenAI's speech body; `voice` (or else `model`) names a voice or alias."""

    model: str = Field(default="tts-1", max_length=256)
    input: str = Field(max_length=1_000_000)
    voice: str = Field(max_length=256)
    response_format: Literal["wav", "mp3", "opus", "flac", "pcm"] = "mp3"
    speed: float = Field(default=1.0, ge=0.25, le=4.0)


class SharingRequest(BaseModel):
    """Who besides admins may see and speak a voice."""

    mode: str = Field(
        max_length=32, description="'private', 'users' (the users named) or 'everyone'"
    )
    users: list[Annotated[str, Field(max_length=64)]] = Field(
        default_factory=list, max_length=1000, description="usernames, for mode 'users'"
    )
