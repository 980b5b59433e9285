"""The training engine as the supervisor runs it: a real child process training a tiny VITS."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.factories import speak, tensorboard_counts
from voicesmith.core.files import write_wav_temp
from voicesmith.datasets.audio import decode_to_pcm16
from voicesmith.datasets.layout import render_metadata
from voicesmith.engines.base_models import (
    BaseModelError,
    EngineError,
    find_model_files,
    safe_extract,
    zoo_names,
    zoo_url,
)
from voicesmith.engines.training.checkpoints import find_resume_dir
from voicesmith.engines.training.progress import Progress
from voicesmith.engines.vocab import preset_text_config, unknown_characters

SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "Hello there, how are you today?",
    "Speech synthesis is fun to test.",
    "A tiny model learns very little.",
    "Every clip is spoken by a robot.",
    "Training on two cores takes patience.",
    "Where is the nearest train station?",
    "Please close the door behind you.",
    "The weather is nice in the spring.",
    "Coffee keeps the engineers awake.",
    "Twelve short clips make a dataset.",
    "And this is the final sentence.",
]
TINY_EPOCHS = 2
BATCH = 4
# What a supervisor with VOICESMITH_TRAINING_THREADS=1 sets, as the session's server has it: a
# tiny model trains no slower on one thread, and far faster beside other work (docs/DEPLOY.md).
ONE_THREAD = {"OMP_NUM_THREADS": "1"}


def make_dataset(root: Path, sentences: list[str]) -> Path:
    """An LJSpeech folder of espeak-ng clips at 22050 Hz mono PCM16."""
    (root / "wavs").mkdir(parents=True)
    rows = []
    for index, text in enumerate(sentences):
        raw = speak(text, root / f"raw{index}.wav")
        samples = decode_to_pcm16(raw, max_seconds=30).samples
        os.replace(
            write_wav_temp(samples, 22050, root / "wavs"), root / "wavs" / f"c{index:02d}.wav"
        )
        raw.unlink()
        rows.append((f"c{index:02d}.wav", text))
    render_metadata(root / "metadata.csv", rows)
    return root


def job_spec(dataset: Path, models: Path, **overrides: object) -> dict[str, object]:
    """A job.json body for a 2-epoch scratch:tiny run."""
    job: dict[str, object] = {
        "job_id": "test",
        "dataset_dir": str(dataset),
        "base_model": "scratch:tiny",
        "models_dir": str(models),
        "epochs": TINY_EPOCHS,
        "batch_size": BATCH,
        "learning_rate": None,
        "eval_split": None,
        "save_every_steps": None,
        "test_sentences": ["Hello world."],
        "resume": False,
        "keep_checkpoints": 2,
        "seed": None,
    }
    return {**job, **overrides}


def start_child(job_dir: Path, job: dict[str, object]) -> tuple[subprocess.Popen, Path]:
    """Write job.json and start the child as the supervisor does, output into train.log."""
    job_dir.mkdir(parents=True, exist_ok=True)
    (job_dir / "job.json").write_text(json.dumps(job), encoding="utf-8")
    log = job_dir / "train.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "voicesmith.engines.training", str(job_dir)],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=job_dir.parent,
            start_new_session=True,
            env={**os.environ, **ONE_THREAD},
        )
    return proc, log


def run_child(job_dir: Path, job: dict[str, object], timeout: float = 240) -> tuple[int, str]:
    """Run the child to the end; its exit status and log."""
    proc, log = start_child(job_dir, job)
    return proc.wait(timeout=timeout), log.read_text(encoding="utf-8")


def last_line(log: str) -> str:
    """The last non-empty line of a log."""
    return [line for line in log.splitlines() if line.strip()][-1]


def metric_steps(job_dir: Path) -> list[int]:
    """The step of every line in metrics.jsonl."""
    lines = (job_dir / "metrics.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["step"] for line in lines]


def progress(job_dir: Path) -> dict:
    """progress.json as a dict."""
    return json.loads((job_dir / "progress.json").read_text(encoding="utf-8"))


def requested(job_dir: Path) -> dict:
    """job.json as a dict: what the run was asked to do."""
    return json.loads((job_dir / "job.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Twelve spoken clips."""
    return make_dataset(tmp_path_factory.mktemp("dataset"), SENTENCES)


@pytest.fixture(scope="session")
def tiny_run(tiny_job: dict) -> Path:
    """The session's tiny model (tests/slow/conftest.py): a scratch:tiny child the worker ran."""
    # One tiny model per session: its run folder is what a child writes, whoever started it.
    assert tiny_job["job"]["status"] == "completed", tiny_job["job"]["error"]
    return tiny_job["dir"]


def engine_job(job_dir: Path, **overrides: object) -> dict[str, object]:
    """A copied run's job.json for a direct child run: as job_spec, without speech recognition."""
    return requested(job_dir) | {"asr_model": None, "keep_checkpoints": 2} | overrides


@pytest.mark.slow
def test_tiny_training_leaves_the_seed_layout(tiny_run: Path) -> None:
    job_dir, log = tiny_run, (tiny_run / "train.log").read_text(encoding="utf-8")
    assert last_line(log).startswith("done: "), log[-3000:]
    assert "CPU training is slow" in log
    assert (job_dir / "config.json").is_file()
    assert (job_dir / "finetune_config.json").is_file()
    assert (job_dir / "best_model.pth").is_file()
    assert list(job_dir.glob("best_model_*.pth"))
    assert len(list(job_dir.glob("checkpoint_*.pth"))) in (1, 2)
    # The suite trains without TensorBoard's figures (tests/conftest.py); the clone has them.
    counts = tensorboard_counts(job_dir)
    assert counts["scalars"] > 10 and counts["audio"] >= 1 and counts["images"] == 0, counts
    assert not list(job_dir.glob("run-*")), "the run folder is moved up into the job folder"
    samples = sorted(p.name for p in (job_dir / "samples").glob("*.wav"))
    # One test sentence, spoken at the end of each epoch.
    assert samples[-1].startswith("step_") and len(samples) == requested(job_dir)["epochs"]


@pytest.mark.slow
def test_tiny_training_reports_progress_and_metrics(tiny_run: Path) -> None:
    job_dir, asked = tiny_run, requested(tiny_run)
    state = progress(job_dir)
    clips = (Path(asked["dataset_dir"]) / "metadata.csv").read_text(encoding="utf-8").splitlines()
    per_epoch = -(-(len(clips) - 1) // asked["batch_size"])  # one clip is held out for eval
    assert state["total_steps"] == asked["epochs"] * per_epoch
    assert state["step"] == state["total_steps"]
    assert state["epoch"] == state["epochs"] == asked["epochs"]
    assert state["device"] == "cpu" and state["seconds_per_step"] > 0
    assert {"loss", "loss_mel", "loss_disc"} <= set(state["losses"])
    assert metric_steps(job_dir) == list(range(1, state["total_steps"] + 1))


@pytest.mark.slow
def test_resume_continues_the_global_step(tiny_run: Path, tmp_path: Path) -> None:
    job_dir = tmp_path / "job"
    shutil.copytree(tiny_run, job_dir)
    before = progress(job_dir)["step"]
    epochs = requested(job_dir)["epochs"] + 1
    code, log = run_child(job_dir, engine_job(job_dir, resume=True, epochs=epochs))
    assert code == 0, log[-3000:]
    after = progress(job_dir)
    assert after["step"] > before and after["epoch"] == epochs
    assert metric_steps(job_dir)[before:] == list(range(before + 1, after["step"] + 1))
    assert (job_dir / "samples" / f"step_{after['step']:06d}_0.wav").is_file()
    # Disk stays bounded: the best `keep_checkpoints` by the promotion rule, plus the newest.
    assert len(list(job_dir.glob("checkpoint_*.pth"))) <= requested(job_dir)["keep_checkpoints"] + 1


@pytest.mark.slow
def test_unreachable_url_fails_fast_with_a_clear_message(tmp_path: Path, dataset: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/x.zip"
    started = time.monotonic()
    code, log = run_child(tmp_path / "job", job_spec(dataset, tmp_path / "m", base_model=url))
    assert code != 0
    assert time.monotonic() - started < 30
    assert last_line(log).startswith("ERROR: could not download") and url in last_line(log)


@pytest.mark.slow
def test_resume_without_a_checkpoint_fails(tmp_path: Path, dataset: Path) -> None:
    code, log = run_child(tmp_path / "job", job_spec(dataset, tmp_path / "m", resume=True))
    assert code != 0
    assert last_line(log) == "ERROR: no checkpoint to resume from"


@pytest.mark.slow
def test_unknown_characters_fail_before_training(tmp_path: Path) -> None:
    data = make_dataset(tmp_path / "data", ["Plain words.", "It costs 5 €.", "More words."])
    code, log = run_child(tmp_path / "job", job_spec(data, tmp_path / "m"))
    assert code != 0
    assert "'€'" in last_line(log) and "c01.wav" in last_line(log)
    assert not (tmp_path / "job" / "metrics.jsonl").exists()


@pytest.mark.slow
def test_sigterm_saves_a_checkpoint_that_resume_continues(tmp_path: Path, dataset: Path) -> None:
    job_dir = tmp_path / "job"
    proc, log = start_child(job_dir, job_spec(dataset, tmp_path / "m", epochs=50))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if (job_dir / "progress.json").exists() and progress(job_dir)["step"] >= 2:
            break
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGTERM)
    stopped = time.monotonic()
    assert proc.wait(timeout=10) == 143, log.read_text()[-3000:]
    assert time.monotonic() - stopped < 10
    saved = progress(job_dir)["step"]
    assert (job_dir / f"checkpoint_{saved}.pth").is_file()
    per_epoch = progress(job_dir)["total_steps"] // 50
    epochs = saved // per_epoch + 1  # the first epoch end past the saved step
    job = json.loads((job_dir / "job.json").read_text()) | {"resume": True, "epochs": epochs}
    code, text = run_child(job_dir, job)
    assert code == 0, text[-3000:]
    assert metric_steps(job_dir) == list(range(1, progress(job_dir)["total_steps"] + 1))
    assert progress(job_dir)["total_steps"] > saved


def test_unknown_characters_for_a_character_preset() -> None:
    config = preset_text_config("scratch:tiny")
    transcripts = {"a.wav": "Hello, World!", "b.wav": "Ça coûte 5 € — ok", "c.wav": "日本 & co"}
    assert unknown_characters(config, transcripts) == {
        "—": ["b.wav"],
        "€": ["b.wav"],
        "日": ["c.wav"],
        "本": ["c.wav"],
    }


def test_unknown_characters_for_a_phoneme_model() -> None:
    config = preset_text_config("scratch:full")
    transcripts = {"a.wav": "Über 50 Straßen, 日本!", "b.wav": "50 € (net)"}
    assert unknown_characters(config, transcripts) == {"€": ["b.wav"]}


def test_unknown_characters_follow_the_config_vocabulary() -> None:
    config = {
        "use_phonemes": False,
        "text_cleaner": "basic_cleaners",
        "characters": {"characters": "abc", "punctuations": "."},
    }
    assert unknown_characters(config, {"x.wav": "Abc. cab", "y.wav": "abd?"}) == {
        "?": ["y.wav"],
        "d": ["y.wav"],
    }


@pytest.mark.parametrize(
    ("entry", "reason"),
    [("../evil.txt", "outside"), ("/tmp/evil.txt", "outside"), ("a/../../evil.txt", "outside")],
)
def test_zip_slip_entries_are_refused(tmp_path: Path, entry: str, reason: str) -> None:
    archive = tmp_path / "bad.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("config.json", "{}")
        out.writestr(zipfile.ZipInfo(entry), "owned")
    with pytest.raises(BaseModelError, match=reason):
        safe_extract(archive, tmp_path / "out" / "inner")
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "out").exists()


def test_zip_symlinks_and_too_many_entries_are_refused(tmp_path: Path) -> None:
    link = zipfile.ZipInfo("link")
    link.external_attr = 0o120777 << 16
    with zipfile.ZipFile(tmp_path / "link.zip", "w") as out:
        out.writestr(link, "/etc/passwd")
    with pytest.raises(BaseModelError, match="symbolic link"):
        safe_extract(tmp_path / "link.zip", tmp_path / "out")
    with zipfile.ZipFile(tmp_path / "many.zip", "w") as out:
        for index in range(1001):
            out.writestr(f"f{index}", "")
    with pytest.raises(BaseModelError, match="1001 entries"):
        safe_extract(tmp_path / "many.zip", tmp_path / "out")


def test_model_files_prefer_the_newest_best_model(tmp_path: Path) -> None:
    for name in ("config.json", "model.pth", "best_model_2.pth", "best_model_10.pth"):
        (tmp_path / name).write_bytes(b"x")
    assert find_model_files(tmp_path).checkpoint.name == "best_model_10.pth"
    (tmp_path / "config.json").unlink()
    with pytest.raises(BaseModelError, match="config.json"):
        find_model_files(tmp_path)


def test_zoo_lookup_reads_the_index_without_torch() -> None:
    code = (
        "import sys; from voicesmith.engines import base_models, vocab;"
        "names = base_models.zoo_names();"
        "assert 'tts_models/en/ljspeech/vits' in names, names;"
        "print(base_models.zoo_url('tts_models/en/ljspeech/vits'));"
        "assert 'torch' not in sys.modules and 'TTS' not in sys.modules"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("tts_models--en--ljspeech--vits.zip")
    assert "tts_models/en/ljspeech/tacotron2-DDC" not in zoo_names()
    assert zoo_url("tts_models/de/thorsten/vits").startswith("https://")


def test_resume_skips_checkpoints_cut_off_while_saving(tmp_path: Path) -> None:
    run_dir = tmp_path / "run-1"
    run_dir.mkdir()
    for folder in (tmp_path, run_dir):
        (folder / "config.json").write_text("{}")
    with zipfile.ZipFile(tmp_path / "checkpoint_4.pth", "w") as intact:
        intact.writestr("data.pkl", "x")
    (run_dir / "checkpoint_8.pth").write_bytes(b"PK\x03\x04 cut off")
    assert find_resume_dir(tmp_path) == tmp_path
    assert (run_dir / "damaged-checkpoint_8.pth").is_file()
    (tmp_path / "checkpoint_4.pth").unlink()
    with pytest.raises(EngineError, match="no checkpoint to resume from"):
        find_resume_dir(tmp_path)


def test_progress_forgets_metrics_of_steps_trained_again(tmp_path: Path) -> None:
    lines = [json.dumps({"step": step}) for step in (1, 2, 3, 4)] + ['{"step": 5, "los']
    (tmp_path / "metrics.jsonl").write_text("\n".join(lines) + "\n")
    tracker = Progress(tmp_path, epochs=2, device="cpu")
    tracker.start(step=2, total_steps=8, steps_per_epoch=4)
    tracker.step(3, {"loss": 1.0}, 0.5)
    assert metric_steps(tmp_path) == [1, 2, 3]
    assert progress(tmp_path)["epoch"] == 1 and progress(tmp_path)["total_steps"] == 8
