"""An admin's first session in the browser, in order: log in, upload, fix, train, watch, listen.

The steps share one tab and one dataset, as a person's session would; only one tiny model is
trained, from the Advanced section, and the job page and the playground reuse it.
"""

import os
import re
import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.conftest import USER, log_in, new_context
from tests.browser.pages import PHONE, assert_fits, axe_faults
from tests.conftest import ADMIN_PASSWORD, USER_PASSWORD, login
from tests.factories import FIXTURES, speak
from tests.jobs import JOBS, wait_for_job
from voicesmith.web.words import FLAGS, verdict

pytestmark = pytest.mark.browser
DATASET = "web"
TRAINING_TIMEOUT_S = 420
API = "/api/v1/admin/training"
# Heard as English, a German sentence comes back as confident-sounding nonsense of low confidence.
GERMAN = "Der Apfel fällt nicht weit vom Stamm, sagte die Großmutter gestern."
ALIAS = "ada"
# The default voice speaks Latin letters only: the rest must be named, not silently dropped.
UNSAYABLE = "Hello 你好 🎉 café"
# Set to docs/screenshots to refresh the README's pictures.
SCREENSHOTS = os.environ.get("SCREENSHOTS_DIR")
# Records each text the newest job's badge and progress show, so no state can slip by unseen.
RECORDER = """() => {
  window.__noReload = true;
  window.__badges = [];
  window.__etas = [];
  const note = () => {
    const row = document.querySelector("#jobs-list tr.job");
    if (!row) return;
    const badge = row.querySelector(".badge").textContent.trim();
    if (window.__badges.at(-1) !== badge) window.__badges.push(badge);
    const text = row.querySelector(".progress-text").textContent;
    if (text.includes("ETA")) window.__etas.push(text);
  };
  new MutationObserver(note).observe(document.getElementById("jobs-list"),
    {subtree: true, childList: true, characterData: true, attributes: true});
}"""


def dataset_count(page: Page, name: str):
    """The Datasets panel's clip count cell for one dataset."""
    return page.locator(f'#datasets-panel tr[data-dataset="{name}"] .audio-count')


def snap(page: Page, name: str) -> None:
    """Save a README screenshot when SCREENSHOTS_DIR is set."""
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / name), full_page=True)


def test_logging_in_goes_where_you_were_going(fresh_context: BrowserContext):
    page = fresh_context.new_page()
    page.goto("/admin")
    expect(page).to_have_url(re.compile(r"/login\?next=/admin$"))
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_have_text("username or password is wrong")
    expect(page.get_by_label("Username")).to_have_value("admin")
    expect(page.get_by_label("Password")).to_be_focused()
    icon = page.request.get("/favicon.ico")
    assert icon.ok and icon.headers["content-type"] == "image/svg+xml"
    log_in(page, "admin", ADMIN_PASSWORD)
    expect(page).to_have_url(re.compile(r"/admin/training$"))


def test_open_the_training_tab(admin_page: Page):
    admin_page.get_by_role("link", name="Users").click()
    expect(admin_page.get_by_role("rowheader", name=USER)).to_be_visible()
    admin_page.get_by_role("link", name="Training", exact=True).click()
    tab = admin_page.get_by_role("link", name="Training", exact=True)
    expect(tab).to_have_attribute("aria-current", "page")
    expect(admin_page.get_by_label("Epochs")).to_have_value("10")
    expect(admin_page.get_by_label("Batch Size")).to_have_value("4")
    expect(admin_page.get_by_role("heading", name="Training Jobs")).to_be_visible()


def test_add_two_files_one_at_a_time(admin_page: Page, speech_clips):
    admin_page.get_by_label("Dataset Name").fill(DATASET)
    for n, (path, text) in enumerate(speech_clips[:2], start=1):
        admin_page.get_by_role("button", name="Add Audio File").click()
        entry = admin_page.locator(".entry").nth(n - 1)
        entry.get_by_label(f"Audio file {n}").set_input_files(path)
        upload = entry.get_by_role("button", name="Upload")
        if n == 1:  # the server's reason shows next to the button, and a retry works
            entry.get_by_label(f"Transcript {n}").fill("one | two")
            upload.click()
            expect(entry.get_by_role("alert")).to_contain_text("transcript may not contain '|'")
        entry.get_by_label(f"Transcript {n}").fill(text)
        upload.click()
        expect(entry.locator("button.upload")).to_have_text("✓ Uploaded")
        expect(entry.locator(".error")).to_be_empty()
    expect(dataset_count(admin_page, DATASET)).to_have_text("2")
    # The entry's number is for screen readers; on screen the label is just "Audio file".
    number = admin_page.locator(".entry label .visually-hidden").first.bounding_box()
    assert number is not None and number["width"] <= 1, number


def test_drop_the_fixture_clips_with_their_metadata(admin_page: Page):
    files = [*sorted(FIXTURES.glob("*.mp3")), FIXTURES / "metadata.csv"]
    admin_page.get_by_label("Choose clips and metadata.csv, or a zip").set_input_files(files)
    result = admin_page.locator("#bulk-result")
    expect(result).to_have_text(f"Stored 8 clips; {DATASET} now holds 10.")
    expect(admin_page.locator("#bulk-progress progress")).to_have_count(len(files))
    expect(dataset_count(admin_page, DATASET)).to_have_text("10")


def test_a_clip_dropped_twice_is_skipped_not_refused(admin_page: Page):
    first = sorted(FIXTURES.glob("*.mp3"))[0]
    admin_page.get_by_label("Choose clips and metadata.csv, or a zip").set_input_files(
        [first, FIXTURES / "metadata.csv"]
    )
    row = admin_page.locator("#bulk-progress li", has_text=first.name)
    expect(row.locator(".note")).to_contain_text("skipped: duplicate of")
    expect(row).to_have_class(re.compile(r"\bskipped\b"))
    expect(admin_page.locator("#bulk-progress li.rejected")).to_have_count(0)


def test_a_clip_without_transcript_and_a_mismatched_one(
    admin_page: Page, server: str, speech_clips, tmp_path_factory
):
    german = speak(GERMAN, tmp_path_factory.mktemp("german") / "german.wav", voice="de")
    wrong = (speech_clips[2][0], speech_clips[7][1])  # a clip with another clip's sentence
    for n, (path, text) in enumerate([(german, ""), wrong], start=3):
        admin_page.get_by_role("button", name="Add Audio File").click()
        entry = admin_page.locator(".entry").nth(n - 1)
        entry.get_by_label(f"Audio file {n}").set_input_files(path)
        entry.get_by_label(f"Transcript {n}").fill(text)
        entry.get_by_role("button", name="Upload").click()
        expect(entry.locator("button.upload")).to_have_text("✓ Uploaded")
    clips = recognised(server)
    assert len(clips) == 12 and {c["status"] for c in clips} == {"ready"}, clips
    expect(dataset_count(admin_page, DATASET)).to_have_text("12")


def recognised(server: str, timeout: float = 180) -> list[dict]:
    """The dataset's clips once speech recognition has heard every one."""
    with httpx.Client(base_url=server) as client:
        headers = login(client, "admin", ADMIN_PASSWORD)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            clips = client.get(f"{API}/datasets/{DATASET}", headers=headers).json()["clips"]
            if all(c["asr_text"] is not None or c["asr_detail"] for c in clips):
                return clips
            time.sleep(0.5)
    raise AssertionError(f"speech recognition never finished: {clips}")


def test_open_the_dataset_play_a_clip_and_fix_a_transcript(admin_page: Page):
    admin_page.get_by_role("link", name=DATASET, exact=True).click()
    expect(admin_page.get_by_role("heading", name=f"Dataset {DATASET}")).to_be_visible()
    player = admin_page.locator("tr.clip audio").first
    player.evaluate("audio => audio.play()")
    admin_page.wait_for_function("audio => audio.currentTime > 0", arg=player.element_handle())
    field = admin_page.locator('input.transcript[value="in being comparatively modern."]')
    field.fill("in being, comparatively, modern.")
    field.press("Enter")
    expect(admin_page.get_by_text("✓ Saved")).to_be_visible()
    admin_page.reload()
    fixed = admin_page.locator('input.transcript[value="in being, comparatively, modern."]')
    expect(fixed).to_have_count(1)


def test_the_dataset_says_its_warnings_and_flags_in_words(admin_page: Page):
    warnings = admin_page.get_by_role("list", name="Warnings about this dataset")
    expect(warnings).to_contain_text("Under 5 minutes of audio")
    mismatch = FLAGS["transcript_mismatch"]
    expect(admin_page.locator(".flag", has_text=mismatch.label).first).to_be_visible()
    expect(admin_page.locator(".flag-help")).to_contain_text(mismatch.explanation)
    expect(admin_page.locator("[data-flag=transcript_mismatch]")).not_to_have_count(0)
    # Accept ASR only where the transcript and what ASR heard disagree.
    flagged = admin_page.locator(
        "tr.clip", has=admin_page.locator("[data-flag=transcript_mismatch]")
    )
    accept = admin_page.get_by_role("button", name=re.compile(r"^Accept ASR for "))
    expect(accept).to_have_count(flagged.count())


def test_review_lists_the_unsure_transcript_and_the_mismatch(admin_page: Page):
    admin_page.get_by_role("link", name="Review flagged clips").click()
    expect(admin_page.get_by_role("heading", name=f"Review dataset {DATASET}")).to_be_visible()
    unsure = admin_page.locator("tr.clip", has=admin_page.locator("[data-flag=low_asr_confidence]"))
    expect(unsure).to_have_count(1)
    expect(unsure.locator(".flag")).to_contain_text(FLAGS["low_asr_confidence"].label)
    expect(unsure.get_by_role("button", name=re.compile(r"^Transcript is right: "))).to_be_visible()
    expect(admin_page.locator("[data-flag=transcript_mismatch]")).not_to_have_count(0)
    expect(admin_page.locator(".empty")).to_have_count(0)


def test_start_a_tiny_job_and_watch_its_badge_live(admin_page: Page, server: str):
    admin_page.get_by_role("link", name="Training", exact=True).click()
    admin_page.evaluate(RECORDER)
    # The picker alone chooses the dataset: the Upload card's box stays empty.
    expect(admin_page.get_by_label("Dataset Name")).to_have_value("")
    expect(admin_page.get_by_label("Dataset", exact=True)).to_have_value(DATASET)
    admin_page.get_by_label("Epochs").fill("2")
    admin_page.get_by_text("Advanced").click()
    admin_page.get_by_label("Base Model").fill("scratch:tiny")
    admin_page.get_by_role("button", name="Start Training").click()
    review = admin_page.locator("#jobs-list .warnings").get_by_role(
        "link", name=re.compile("Review")
    )
    expect(review).to_have_attribute("href", f"/admin/datasets/{DATASET}/review")
    badge = admin_page.locator("#jobs-list tr.job").first.locator(".badge")
    expect(badge).to_have_text("Training...", timeout=60_000)
    if SCREENSHOTS:
        expect(admin_page.locator(".progress-text").first).to_contain_text("ETA", timeout=180_000)
        snap(admin_page, "training-tab.png")
    # The API is polled beside the page, so a failed job stops the test at once with its error.
    job_id = admin_page.locator("#jobs-list tr.job").first.get_attribute("data-job-id")
    with httpx.Client(base_url=server) as client:
        headers = login(client, "admin", ADMIN_PASSWORD)
        wait_for_job(client, headers, job_id, timeout=TRAINING_TIMEOUT_S)
    expect(badge).to_have_text("Completed")
    expect(badge).to_have_css("background-color", "rgb(26, 127, 55)")
    assert admin_page.evaluate("window.__badges") == ["Pending", "Training...", "Completed"]
    assert admin_page.evaluate("window.__etas"), "a running job showed no ETA"
    assert admin_page.evaluate("window.__noReload") is True


def test_the_job_page_charts_the_loss(admin_page: Page):
    admin_page.locator("#jobs-list tr.job").first.get_by_role("link").click()
    expect(admin_page.get_by_role("heading", name=re.compile(rf"^Job {DATASET}_"))).to_be_visible()
    expect(admin_page.locator("#job-badge")).to_have_text("Completed")
    chart = admin_page.locator("#loss-chart")
    expect(chart.locator("canvas")).to_be_visible()
    expect(chart).not_to_have_attribute("data-points", "0")
    assert int(chart.get_attribute("data-points")) >= 1
    expect(admin_page.locator("#samples audio").first).to_be_attached()
    expect(admin_page.locator("#log")).not_to_be_empty()
    expect(admin_page.get_by_role("button", name="Delete")).to_be_visible()
    expect(admin_page.get_by_role("button", name="Cancel")).to_be_hidden()
    snap(admin_page, "job-page.png")


def test_the_job_page_judges_how_intelligible_the_voice_is(admin_page: Page, server: str):
    job_id = admin_page.locator("#job").get_attribute("data-job-id")
    with httpx.Client(base_url=server) as client:
        job = client.get(f"{JOBS}/{job_id}", headers=login(client, "admin", ADMIN_PASSWORD)).json()
    cer = job["progress"]["intelligibility_cer"]
    expect(admin_page.locator("#intelligibility")).to_contain_text(verdict(cer)[1])


def test_the_checkpoints_are_scored_and_another_one_promoted(admin_page: Page):
    rows = admin_page.locator("#checkpoints tbody tr")
    expect(rows.first).to_be_visible()
    assert rows.count() >= 2, rows.all_inner_texts()
    expect(admin_page.locator("#score-chart canvas")).to_be_visible()
    in_use = admin_page.locator("#checkpoints tr.promoted-row")
    expect(in_use).to_have_count(1)
    before = in_use.get_attribute("data-step")
    player = admin_page.locator("#checkpoints audio").first
    player.evaluate("audio => audio.play()")
    admin_page.wait_for_function("audio => audio.currentTime > 0", arg=player.element_handle())
    use = admin_page.get_by_role("button", name=re.compile(r"^Use this checkpoint: step "))
    after = use.first.get_attribute("aria-label").rsplit(" ", 1)[1]
    use.first.click()
    expect(in_use).to_have_attribute("data-step", after, timeout=120_000)
    assert after != before
    expect(admin_page.locator("section:has(#checkpoints) .error")).to_be_empty()


def speak_and_listen(page: Page, form: str, text: str) -> None:
    """Speak text with one of the page's speak forms, until its player has played audio."""
    page.locator(f"#{form}speak-form").get_by_label("Text").fill(text)
    page.locator(f"#{form}speak-form").get_by_role("button", name="Speak").click()
    page.wait_for_function(
        "(id) => { const a = document.getElementById(id);"
        " return a.readyState >= 1 && a.duration > 0 && a.currentTime > 0; }",
        arg=f"{form}speech",
        timeout=120_000,
    )
    expect(page.locator(f"#{form}speak-form .error")).to_be_empty()


def test_try_this_voice_speaks_on_the_job_page(admin_page: Page):
    speak_and_listen(admin_page, "try-", "Hello from the job page.")


def test_name_this_voice_on_the_job_page(admin_page: Page):
    admin_page.get_by_label("Name", exact=True).fill("not a name!")
    admin_page.get_by_role("button", name="Name this voice").click()
    section = admin_page.locator(
        "section", has=admin_page.get_by_role("heading", name="Name this voice")
    )
    expect(section.get_by_role("alert").first).to_contain_text("alias may contain only letters")
    admin_page.get_by_label("Name", exact=True).fill(ALIAS)
    admin_page.get_by_role("button", name="Name this voice").click()
    expect(section.locator(".done-message")).to_have_text(f"✓ This voice is now called {ALIAS}.")
    expect(section.locator(".error").first).to_be_empty()


def test_the_voice_downloads_for_coqui_and_says_why_not_for_piper(admin_page: Page):
    job_id = admin_page.locator("#job").get_attribute("data-job-id")
    section = admin_page.locator(
        "section", has=admin_page.get_by_role("heading", name="Use it elsewhere")
    )
    # The tiny job speaks characters, not espeak phonemes: Piper's runtime could not say them.
    section.get_by_role("button", name="Download for Piper / Home Assistant").click()
    expect(section.get_by_role("alert")).to_contain_text(f"cannot export job '{job_id}' as piper")
    with admin_page.expect_download(timeout=120_000) as info:
        section.get_by_role("button", name="Download for Coqui TTS").click()
    assert info.value.suggested_filename == f"{job_id}-coqui.zip"
    expect(section.locator(".error")).to_be_empty()


def test_share_the_voice_on_the_voices_tab(admin_page: Page, fresh_context: BrowserContext):
    user = fresh_context.new_page()
    log_in(user, USER, USER_PASSWORD)
    # A new voice and its new alias are private: the plain user has nothing to pick yet.
    expect(user.get_by_label("Voice").locator("option")).to_have_text(["No trained voice yet"])
    admin_page.goto("/admin/voices")
    row = admin_page.locator(f"#sharing tr[data-voice='{ALIAS}']")
    expect(row).to_have_attribute("data-sharing", "private")
    row.get_by_label(f"Sharing of {ALIAS}", exact=True).select_option("users")
    row.get_by_label(f"Users to share {ALIAS} with", exact=True).fill("nobody-here")
    row.get_by_role("button", name=f"Save sharing of {ALIAS}").click()
    expect(row.get_by_role("alert")).to_contain_text("no such user: 'nobody-here'")
    row.get_by_label(f"Sharing of {ALIAS}", exact=True).select_option("everyone")
    row.get_by_role("button", name=f"Save sharing of {ALIAS}").click()
    row = admin_page.locator(f"#sharing tr[data-voice='{ALIAS}']")
    expect(row).to_have_attribute("data-sharing", "everyone")
    expect(row).to_contain_text("set by admin")
    # The job id is a name of its own and stays private.
    job_row = admin_page.locator("#sharing tbody tr").first
    expect(job_row).to_have_attribute("data-sharing", "private")
    user.reload()
    expect(user.get_by_label("Voice").locator("option")).to_have_text([ALIAS])


def test_a_plain_user_speaks_in_the_playground(fresh_context: BrowserContext):
    page = fresh_context.new_page()
    log_in(page, USER, USER_PASSWORD)
    expect(page).to_have_url(re.compile(r"/playground$"))
    # A plain user sees the voice by its name, never by its job id.
    expect(page.get_by_label("Voice").locator("option")).to_have_text([ALIAS])
    speak_and_listen(page, "", UNSAYABLE)
    dropped = page.locator("#speak-form .dropped")
    expect(dropped).to_contain_text("cannot say")
    for char in "你好🎉":
        expect(dropped).to_contain_text(char)


def test_the_audit_tab_shows_who_spoke_in_the_playground(admin_page: Page):
    admin_page.goto("/admin/training")
    admin_page.get_by_role("link", name="Audit").click()
    expect(admin_page).to_have_url(re.compile(r"/admin/audit$"))
    admin_page.get_by_label("Actor", exact=True).fill(USER)
    admin_page.get_by_label("Action", exact=True).select_option("synthesis")
    admin_page.get_by_role("button", name="Filter").click()
    row = admin_page.locator("table.audit tbody tr").first
    expect(row).to_contain_text("POST /playground/speak")
    expect(row).to_contain_text(ALIAS)
    expect(row).to_contain_text(f"{len(UNSAYABLE)}")
    expect(admin_page.locator("table.audit tbody tr")).to_have_count(1)
    admin_page.get_by_label("Actor", exact=True).fill("nobody-at-all")
    admin_page.get_by_role("button", name="Filter").click()
    expect(admin_page.locator(".audit-total")).to_have_text("0 matching rows")


def test_a_new_alias_reaches_the_voice_picker_without_a_reload(admin_page: Page):
    admin_page.goto("/admin/voices")
    admin_page.get_by_role("textbox", name="Alias").fill("bad alias!")
    admin_page.get_by_role("button", name="Set alias").click()
    expect(admin_page.locator("form[hx-post='/admin/voices/aliases'] .error")).to_contain_text(
        "alias may contain only letters"
    )
    admin_page.get_by_role("textbox", name="Alias").fill("narrator")
    admin_page.get_by_role("button", name="Set alias").click()
    expect(admin_page.get_by_role("rowheader", name="narrator", exact=True)).to_be_visible()
    expect(admin_page.locator("#voice option").first).to_contain_text(f"{ALIAS}, narrator")


def test_creating_a_user_empties_the_form_and_says_so(admin_page: Page):
    admin_page.get_by_role("link", name="Users").click()
    admin_page.get_by_label("Username").fill("bob")
    admin_page.get_by_label("Password").fill("bob-password-1")
    admin_page.get_by_role("button", name="Create user").click()
    expect(admin_page.locator("#user-created")).to_have_text("✓ Created user bob.")
    expect(admin_page.get_by_label("Username")).to_have_value("")
    expect(admin_page.get_by_label("Password")).to_have_value("")
    me = admin_page.locator('tr[data-username="admin"]')
    expect(me.get_by_role("button", name="Delete")).to_have_count(0)
    expect(me.get_by_role("button", name="Set role of admin")).to_be_disabled()
    expect(me).to_contain_text("This is you")


@pytest.mark.parametrize(
    "viewport", [PHONE, {"width": 1280, "height": 900}], ids=["phone", "desktop"]
)
def test_every_page_fits_the_screen_and_passes_axe(browser: Browser, server: str, viewport: dict):
    context = new_context(browser, server, viewport=viewport, bypass_csp=True)
    page = context.new_page()
    faults: list[str] = []
    page.goto("/login")
    check_page(page, faults)
    log_in(page, "admin", ADMIN_PASSWORD)
    job_id = page.locator("#jobs-list tr.job").first.get_attribute("data-job-id")
    for path in [
        "/admin/training",
        f"/admin/datasets/{DATASET}",
        f"/admin/datasets/{DATASET}/review",
        f"/admin/jobs/{job_id}",
        "/admin/voices",
        "/admin/users",
        "/admin/audit",
        "/playground",
    ]:
        page.goto(path)
        check_page(page, faults)
    context.close()
    assert faults == []


def check_page(page: Page, faults: list[str]) -> None:
    """One page: it fits the window, then axe-core's serious and critical faults are noted."""
    page.wait_for_load_state("networkidle")
    assert_fits(page)
    faults.extend(axe_faults(page))
