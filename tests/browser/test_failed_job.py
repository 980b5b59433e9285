"""A job whose base model cannot be downloaded says so in the browser, and offers no Resume."""

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.conftest import ADMIN_PASSWORD, free_port, login, upload_clips
from tests.factories import fixture_clips
from tests.jobs import JOBS, status_is, wait_for_job
from voicesmith.training.failures import NO_DOWNLOAD

pytestmark = pytest.mark.browser
DATASET = "unreachable-base"


@pytest.fixture(scope="module")
def failed_job(server: str, speech_clips) -> Iterator[dict]:
    """A job started over the API with a base model URL that nothing answers, once it failed."""
    with httpx.Client(base_url=server, timeout=60) as client:
        headers = login(client, "admin", ADMIN_PASSWORD)
        upload_clips(client, headers, fixture_clips() + speech_clips[:4], DATASET)
        body = {
            "dataset_name": DATASET,
            "base_model": f"http://127.0.0.1:{free_port()}/base.zip",
            "batch_size": 4,
        }
        response = client.post("/api/v1/admin/training/start", json=body, headers=headers)
        assert response.status_code == 200, response.text
        job_id = response.json()["job_id"]
        yield wait_for_job(client, headers, job_id, until=status_is("failed"), timeout=300)
        client.delete(f"{JOBS}/{job_id}", headers=headers)


def test_the_api_names_the_download_and_offers_no_resume(failed_job: dict):
    assert failed_job["error"].startswith(NO_DOWNLOAD + "\ncould not download http://127.0.0.1:")
    assert failed_job["can_resume"] is False


def test_the_jobs_list_and_the_job_page_say_the_download_failed(admin_page: Page, failed_job: dict):
    job_id = failed_job["job_id"]
    admin_page.goto("/admin/training")
    row = admin_page.locator(f'#jobs-list tr.job[data-job-id="{job_id}"]')
    expect(row.locator(".error")).to_contain_text(
        "Could not download the base model (no internet?)"
    )
    expect(row.get_by_role("button", name="Resume")).to_have_count(0)
    row.get_by_role("link", name=job_id).click()
    expect(admin_page.locator("#job-error")).to_contain_text(NO_DOWNLOAD)
    expect(admin_page.locator("#job-badge")).to_have_text("Failed")
    expect(admin_page.get_by_role("button", name="Delete")).to_be_visible()
    expect(admin_page.get_by_role("button", name="Resume")).to_be_hidden()
    expect(admin_page.locator("#log")).to_contain_text("ERROR: could not download")
