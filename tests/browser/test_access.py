"""What the browser must refuse: admin pages for plain users, and script smuggled in as text."""

import re

import pytest
from playwright.sync_api import BrowserContext, Dialog, Page, expect

from tests.browser.conftest import USER, log_in
from tests.conftest import USER_PASSWORD
from tests.factories import fixture_clips

pytestmark = pytest.mark.browser
XSS = "<img src=x onerror=alert(1)>"
# Passes the transcript checks, yet holds every character HTML treats as special.
SPECIAL = "Fish & chips <3 \"quoted\" 'too' > less"


def test_a_plain_user_is_refused_the_admin_dashboard(fresh_context: BrowserContext):
    page = fresh_context.new_page()
    log_in(page, USER, USER_PASSWORD)
    expect(page).to_have_url(re.compile(r"/playground$"))
    expect(page.get_by_role("link", name="Admin Dashboard")).to_have_count(0)
    response = page.goto("/admin")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", name="Admins only")).to_be_visible()
    response = page.goto("/admin/users")
    assert response is not None and response.status == 403


def test_a_transcript_with_markup_shows_as_text_and_runs_nothing(admin_page: Page):
    dialogs: list[Dialog] = []

    def note(dialog: Dialog) -> None:
        dialogs.append(dialog)
        dialog.dismiss()

    admin_page.on("dialog", note)
    response = admin_page.goto("/admin/training")
    assert response is not None
    assert "script-src 'self'" in response.headers["content-security-policy"]
    admin_page.get_by_label("Dataset Name").fill("xss")
    admin_page.get_by_role("button", name="Add Audio File").click()
    entry = admin_page.locator(".entry").last
    entry.get_by_label(re.compile(r"^Audio file")).set_input_files(fixture_clips()[0][0])
    entry.get_by_label(re.compile(r"^Transcript")).fill(XSS)
    entry.get_by_role("button", name="Upload").click()
    # The server refuses markup and quotes it back; the page must show the quote as text.
    expect(entry.get_by_role("alert")).to_contain_text(XSS)
    entry.get_by_label(re.compile(r"^Transcript")).fill(SPECIAL)
    entry.get_by_role("button", name="Upload").click()
    expect(entry.locator("button.upload")).to_have_text("✓ Uploaded")
    admin_page.get_by_role("link", name="xss", exact=True).click()
    field = admin_page.locator("tr.clip input.transcript")
    expect(field).to_have_value(SPECIAL)
    expect(admin_page.locator("main img")).to_have_count(0)
    admin_page.wait_for_timeout(500)
    assert dialogs == []
    admin_page.remove_listener("dialog", note)
    # The journey after this one, and the README's screenshots, start with no stray dataset.
    admin_page.once("dialog", lambda dialog: dialog.accept())
    admin_page.get_by_role("button", name="Delete dataset").click()
    expect(admin_page).to_have_url(re.compile(r"/admin/training$"))
    expect(admin_page.locator('#datasets-panel tr[data-dataset="xss"]')).to_have_count(0)
