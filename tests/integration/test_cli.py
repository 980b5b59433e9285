"""The voicesmith CLI as a user runs it."""

import json
import os
import subprocess
import sys

import httpx

from tests.conftest import login, start_server, stop_server


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run `python -m voicesmith ...` and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "voicesmith", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_create_admin_then_log_in(tmp_path):
    env = {**os.environ, "VOICESMITH_NEW_ADMIN_PASSWORD": "second-admin-pw"}
    data_dir = str(tmp_path / "var")
    done = run_cli("create-admin", "root2", "--data-dir", data_dir, env=env)
    assert done.returncode == 0 and "created" in done.stdout
    again = run_cli("create-admin", "root2", "--data-dir", data_dir, env=env)
    assert again.returncode == 1 and "already exists" in again.stderr
    proc, base = start_server(tmp_path / "var", dict(os.environ))
    try:
        with httpx.Client(base_url=base) as client:
            me = client.get("/api/v1/auth/me", headers=login(client, "root2", "second-admin-pw"))
        assert me.json()["role"] == "admin"
    finally:
        stop_server(proc)


def test_env_password_creates_the_named_admin(tmp_path):
    env = {
        **os.environ,
        "VOICESMITH_ADMIN_USERNAME": "boss",
        "VOICESMITH_ADMIN_PASSWORD": "boss-password-1",
    }
    proc, base = start_server(tmp_path / "var", env)
    output = ""
    try:
        with httpx.Client(base_url=base) as client:
            assert login(client, "boss", "boss-password-1")
    finally:
        output = stop_server(proc)
    assert "boss-password-1" not in output
    assert not (tmp_path / "var" / "initial_admin_password").exists()


def test_help_lists_the_commands():
    done = run_cli("--help", env=dict(os.environ))
    assert done.returncode == 0
    for command in ("serve", "create-admin"):
        assert command in done.stdout


def test_dataset_import_from_a_folder_and_a_zip(tmp_path):
    import shutil
    import zipfile

    from tests.factories import FIXTURES

    folder = tmp_path / "clips"
    shutil.copytree(FIXTURES, folder)
    (folder / "README.md").unlink()
    data_dir = str(tmp_path / "var")
    done = run_cli(
        "dataset",
        "import",
        str(folder),
        "--name",
        "mine",
        "--data-dir",
        data_dir,
        env=dict(os.environ),
    )
    assert done.returncode == 0, done.stderr
    assert "mine: stored 8, 8 clips in all" in done.stdout
    archive = tmp_path / "clips.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in folder.iterdir():
            zf.write(path, f"inner/{path.name}")
    again = run_cli(
        "dataset",
        "import",
        str(archive),
        "--name",
        "mine",
        "--data-dir",
        data_dir,
        env=dict(os.environ),
    )
    assert "stored 0, 8 clips in all" in again.stdout and again.stdout.count("duplicate of") == 8
    lines = (tmp_path / "var" / "data" / "mine" / "metadata.csv").read_text().splitlines()
    assert len(lines) == 8
    report = run_cli("dataset", "report", "mine", "--data-dir", data_dir, env=dict(os.environ))
    assert report.returncode == 0, report.stderr
    assert report.stdout.startswith("mine: 8 clips") and "under 5 minutes" in report.stdout
    as_json = run_cli(
        "dataset", "report", "mine", "--json", "--data-dir", data_dir, env=dict(os.environ)
    )
    assert len(json.loads(as_json.stdout)["clips"]) == 8
    missing = run_cli("dataset", "report", "nope", "--data-dir", data_dir, env=dict(os.environ))
    assert missing.returncode == 1 and "does not exist" in missing.stderr
    zipped = tmp_path / "piper.zip"
    exported = run_cli(
        "dataset", "export", "mine", "--layout", "piper", "-o", str(zipped),
        "--data-dir", data_dir, env=dict(os.environ),
    )  # fmt: skip
    assert exported.returncode == 0, exported.stderr
    names = zipfile.ZipFile(zipped).namelist()
    assert "mine/metadata.csv" in names and sum("/wavs/" in n for n in names) == 8
