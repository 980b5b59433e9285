"""LJSpeech layout helpers: safe names, atomic writes, and a lock that excludes threads."""

import threading
import time

import numpy as np

from voicesmith.core.files import write_wav_temp
from voicesmith.datasets import layout


def test_safe_stem_keeps_plain_names_and_defangs_the_rest():
    assert layout.safe_stem("LJ001-0001.mp3") == "LJ001-0001"
    assert layout.safe_stem("..\\..\\win dows.wav") == "win_dows"
    assert layout.safe_stem("....wav") == "clip"
    assert layout.safe_stem("é" * 300 + ".wav") == "clip"
    assert len(layout.safe_stem("a" * 300 + ".wav")) == layout.MAX_STEM_CHARS


def test_render_metadata_replaces_the_file_whole(tmp_path):
    path = tmp_path / "metadata.csv"
    layout.render_metadata(path, [("a.wav", "first"), ("b.wav", "second")])
    assert path.read_text() == "a.wav|first\nb.wav|second\n"
    layout.render_metadata(path, [("a.wav", "only")])
    assert path.read_text() == "a.wav|only\n"
    assert [p.name for p in tmp_path.iterdir()] == ["metadata.csv"]


def test_temp_wav_is_pcm16_mono(tmp_path):
    import wave

    path = write_wav_temp(np.zeros(2205, dtype=np.int16), 22050, tmp_path)
    with wave.open(str(path)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getnframes()) == (1, 2, 2205)


def test_dataset_lock_excludes_other_threads(tmp_path):
    inside, overlaps = [], []

    def work():
        with layout.dataset_lock(tmp_path, "ds"):
            inside.append(1)
            overlaps.append(len(inside))
            time.sleep(0.02)
            inside.pop()

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert overlaps == [1] * 6
