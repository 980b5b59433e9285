"""The dataset page's Consent panel: get the statement, upload its reading, see the verdict."""

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import log_in, new_context
from tests.conftest import ADMIN_PASSWORD, login, upload_clips
from tests.factories import speak

pytestmark = pytest.mark.browser
DATASET = "consent"
# The first recording loads speech recognition and the speaker encoder into the server.
VERDICT_TIMEOUT_MS = 180_000


@pytest.fixture(scope="module")
def page(browser: Browser, server: str, speech_clips) -> Iterator[Page]:
    """An admin's tab, with a dataset of six en-us clips."""
    with httpx.Client(base_url=server, timeout=60) as client:
        headers = login(client, "admin", ADMIN_PASSWORD)
        upload_clips(client, headers, speech_clips[:6], DATASET)
    context = new_context(browser, server)
    tab = context.new_page()
    log_in(tab, "admin", ADMIN_PASSWORD)
    yield tab
    context.close()


def test_the_speaker_reads_the_statement_and_it_is_verified(page: Page, tmp_path: Path):
    page.goto(f"/admin/datasets/{DATASET}")
    expect(page.locator(".consent-state")).to_contain_text("No verified consent")
    page.get_by_label("Speaker's name").fill("Ada Park")
    page.get_by_role("button", name="Get statement").click()
    statement = page.locator("blockquote.statement")
    expect(statement).to_contain_text("I, Ada Park, agree that")
    recording = speak(statement.inner_text(), tmp_path / "reading.wav")
    page.get_by_label("Recording of the speaker reading the statement").set_input_files(recording)
    page.get_by_role("button", name="Check recording").click()
    expect(page.locator("#consent-result")).to_contain_text("Verified", timeout=VERDICT_TIMEOUT_MS)
    page.reload()
    expect(page.locator(".consent-state")).to_contain_text("Verified: Ada Park read the statement")
