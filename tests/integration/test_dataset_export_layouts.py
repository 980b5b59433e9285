"""Dataset export layouts: LJSpeech-1.1 for Coqui, Piper's training CSV, and the seed's."""

import csv
import io
import zipfile
from pathlib import Path

from tests.factories import fixture_clips
from tests.integration.test_bulk_import import metadata_for, send_parts

EXPORT = "/api/v1/admin/training/datasets/orig/export"


def _exported(client, headers, tmp_path: Path, layout: str | None) -> tuple[Path, list]:
    """Upload the fixture clips (one transcript opens with a quote), export, unzip."""
    clips = fixture_clips()
    # A leading quote is what csv.reader would swallow in a naive `file|text` line.
    clips[0] = (clips[0][0], f'"Quoted," she said. {clips[0][1]}')
    send_parts(client, headers, clips, metadata_for(clips), dataset="orig")
    params = {} if layout is None else {"layout": layout}
    response = client.get(EXPORT, headers=headers, params=params)
    assert response.status_code == 200, response.text
    zipfile.ZipFile(io.BytesIO(response.content)).extractall(tmp_path)
    return tmp_path / "orig", clips


def test_default_layout_is_ljspeech_that_coqui_loads(client, admin_headers, tmp_path):
    from TTS.tts.configs.shared_configs import BaseDatasetConfig, BaseTTSConfig
    from TTS.tts.datasets import load_tts_samples

    root, clips = _exported(client, admin_headers, tmp_path, None)
    lines = (root / "metadata.csv").read_text().splitlines()
    assert all(len(line.split("|")) == 3 and ".wav|" not in line for line in lines)
    config = BaseDatasetConfig(formatter="ljspeech", path=str(root), meta_file_train="metadata.csv")
    samples, _ = load_tts_samples(BaseTTSConfig(datasets=[config]), eval_split=False)
    assert len(samples) == len(clips)
    assert all(Path(s["audio_file"]).is_file() for s in samples)
    # Coqui keeps the line end in the last column, as it does for LJSpeech-1.1 itself.
    assert clips[0][1] in {s["text"].strip() for s in samples}


def test_piper_layout_reads_with_piper_csv_rules(client, admin_headers, tmp_path):
    root, clips = _exported(client, admin_headers, tmp_path, "piper")
    # piper.train's VitsDataModule: csv.reader(delimiter="|"), audio at audio_dir / row[0].
    with open(root / "metadata.csv", encoding="utf-8") as csv_file:
        rows = list(csv.reader(csv_file, delimiter="|"))
    assert len(rows) == len(clips)
    assert all((root / "wavs" / row[0]).is_file() for row in rows)
    assert clips[0][1] in {row[-1] for row in rows}


def test_seed_layout_keeps_two_columns(client, admin_headers, tmp_path):
    root, clips = _exported(client, admin_headers, tmp_path, "seed")
    lines = (root / "metadata.csv").read_text().splitlines()
    assert len(lines) == len(clips)
    assert all(line.split("|")[0].endswith(".wav") and line.count("|") == 1 for line in lines)


def test_unknown_layout_is_422_naming_the_choices(client, admin_headers):
    response = client.get(EXPORT, headers=admin_headers, params={"layout": "kaldi"})
    assert response.status_code == 422 and "ljspeech" in response.json()["detail"]
