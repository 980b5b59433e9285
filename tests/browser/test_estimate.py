"""The Estimate button: a dry run of the Start Training form, answered in words on the page."""

import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import log_in, new_context
from tests.conftest import ADMIN_PASSWORD, login, upload_clips
from tests.factories import fixture_clips
from tests.jobs import JOBS

pytestmark = pytest.mark.browser
DATASET = "estimate"
# The probe waits for the worker between jobs, then runs for well under a minute.
PROBE_TIMEOUT_MS = 300_000


@pytest.fixture(scope="module")
def page(browser: Browser, server: str, speech_clips) -> Iterator[Page]:
    """An admin's tab on the Training tab, with a dataset to estimate."""
    with httpx.Client(base_url=server, timeout=60) as client:
        headers = login(client, "admin", ADMIN_PASSWORD)
        upload_clips(client, headers, fixture_clips() + speech_clips[:4], DATASET)
    context = new_context(browser, server)
    tab = context.new_page()
    log_in(tab, "admin", ADMIN_PASSWORD)
    yield tab
    context.close()


def test_estimate_says_the_time_and_the_memory_in_words(page: Page, server: str):
    page.goto("/admin/training")
    page.get_by_label("Dataset", exact=True).select_option(DATASET)
    page.get_by_label("Epochs").fill("2")
    page.get_by_text("Advanced").click()
    page.get_by_label("Base Model").fill("scratch:tiny")
    page.get_by_role("button", name="Estimate").click()
    answer = page.locator("#estimate-answer")
    said = re.compile(r"^about \d+ (s|min) on this CPU; fits in memory with batch size 4$")
    expect(answer).to_have_text(said, timeout=PROBE_TIMEOUT_MS)
    # A dry run queues no job.
    with httpx.Client(base_url=server) as client:
        headers = login(client, "admin", ADMIN_PASSWORD)
        jobs = client.get(JOBS, headers=headers).json()["jobs"]
    assert all(job["dataset_name"] != DATASET for job in jobs)


def test_estimate_of_a_dataset_too_small_says_why_in_the_form(page: Page, server: str):
    with httpx.Client(base_url=server, timeout=60) as client:
        headers = login(client, "admin", ADMIN_PASSWORD)
        upload_clips(client, headers, fixture_clips()[:2], "too-small")
    page.goto("/admin/training")
    page.get_by_label("Dataset", exact=True).select_option("too-small")
    page.get_by_role("button", name="Estimate").click()
    expect(page.locator("#start-form .error")).to_contain_text("training needs at least")
