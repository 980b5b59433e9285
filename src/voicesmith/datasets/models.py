"""Datasets and their clips; the rows are the truth metadata.csv is rendered from."""

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from voicesmith.db import Base, UTCDateTime, utcnow


class Dataset(Base):
    """A named LJSpeech dataset under <data_dir>/data/<name>."""

    __tablename__ = "datasets"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    clips: Mapped[list["Clip"]] = relationship(
        back_populates="dataset", cascade="all, delete-orphan", order_by="Clip.id"
    )


class Clip(Base):
    """One converted 22050 Hz mono WAV and its transcript."""

    __tablename__ = "clips"
    __table_args__ = (UniqueConstraint("dataset_id", "wav_filename"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("datasets.id", ondelete="CASCADE"), index=True
    )
    wav_filename: Mapped[str] = mapped_column(String(128))
    transcript: Mapped[str] = mapped_column(Text)
    duration_seconds: Mapped[float] = mapped_column(Float)
    original_filename: Mapped[str] = mapped_column(String(255))
    original_format: Mapped[str] = mapped_column(String(64))
    original_codec: Mapped[str] = mapped_column(String(64))
    original_sample_rate: Mapped[int] = mapped_column(Integer)
    original_channels: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    dataset: Mapped[Dataset] = relationship(back_populates="clips")
