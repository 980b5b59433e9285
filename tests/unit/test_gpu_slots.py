"""`voicesmith worker --gpus`: parsing the list, and one GPU per concurrent job."""

import threading

from typer.testing import CliRunner

from voicesmith.cli import app
from voicesmith.training.runner import WorkerContext


def test_gpus_must_be_distinct_numbers(tmp_path):
    for bad in ("a,b", "0,0", "0,-1"):
        result = CliRunner().invoke(app, ["worker", "--data-dir", str(tmp_path), "--gpus", bad])
        assert result.exit_code == 2
        assert "--gpus takes distinct GPU numbers" in result.output


def test_each_running_job_holds_its_own_gpu(settings):
    ctx = WorkerContext(settings=settings, sessions=None, worker_id="h:1", gpus=("0", "1"))
    held, inside, release = [], threading.Barrier(3), threading.Event()

    def job() -> None:
        with ctx.gpu_slot() as gpu:
            held.append(gpu)
            inside.wait()
            release.wait()

    threads = [threading.Thread(target=job) for _ in range(2)]
    for thread in threads:
        thread.start()
    inside.wait()
    assert sorted(held) == ["0", "1"]
    release.set()
    for thread in threads:
        thread.join()
    with ctx.gpu_slot() as gpu:
        assert gpu in ("0", "1")


def test_a_worker_without_gpus_sets_none(settings):
    ctx = WorkerContext(settings=settings, sessions=None, worker_id="h:1")
    with ctx.gpu_slot() as gpu:
        assert gpu is None
