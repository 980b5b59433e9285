"""Browser fixtures: a live server, Debian's Chromium under Playwright, screenshots on failure."""

import os
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Playwright,
    expect,
    sync_playwright,
)

from tests.conftest import ADMIN_PASSWORD, USER_PASSWORD, login, start_server, stop_server

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
FAILURES = ROOT / "build" / "browser-failures"
USER = "alice"
# Two busy cores decode audio and train next to the browser: give each expectation time.
expect.set_options(timeout=20_000)


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> Iterator[str]:
    """A live `voicesmith serve` with its training worker and a non-admin user; yields its URL."""
    if not (ROOT / "node_modules" / "htmx.org").is_dir():
        pytest.fail("node_modules is missing; run `npm ci` (make test does)")
    data_dir = tmp_path_factory.mktemp("browser") / "var"
    # Two checkpoints kept, so the job page has another one to promote.
    env = {
        **os.environ,
        "VOICESMITH_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "VOICESMITH_KEEP_CHECKPOINTS": "2",
    }
    proc, base = start_server(data_dir, env)
    with httpx.Client(base_url=base) as client:
        body = {"username": USER, "password": USER_PASSWORD, "role": "user"}
        headers = login(client, "admin", ADMIN_PASSWORD)
        assert client.post("/api/v1/admin/users", json=body, headers=headers).status_code == 201
    yield base
    # Beside the failure screenshots: a page that says "the server answered 500" has its
    # traceback only here.
    FAILURES.mkdir(parents=True, exist_ok=True)
    (FAILURES / "server.log").write_text(stop_server(proc), encoding="utf-8")


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    """The Playwright driver."""
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Debian's Chromium, headless; audio may play without a click, as after one."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing; `make test` installs it (apt-get install chromium)")
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=["--autoplay-policy=no-user-gesture-required", "--mute-audio"],
    )
    yield browser
    browser.close()


# Script errors and CSP refusals seen by any page; a status the server answered is not one.
PAGE_ERRORS: list[str] = []


def _watch(page: Page) -> None:
    """Collect a page's uncaught exceptions and console errors."""
    page.on("pageerror", lambda exc: PAGE_ERRORS.append(f"{page.url}: {exc}"))
    page.on("console", lambda msg: _note_console(page, msg))


# How Chromium and htmx log an error status the server answered; the page shows its detail.
ANSWERED = ("Failed to load resource", "Response Status Error Code")


def _note_console(page: Page, msg: ConsoleMessage) -> None:
    """Keep console errors other than the logging of an error status the server answered."""
    if msg.type == "error" and not msg.text.startswith(ANSWERED):
        PAGE_ERRORS.append(f"{page.url}: {msg.text}")


def new_context(
    browser: Browser, server: str, viewport: dict | None = None, *, bypass_csp: bool = False
) -> BrowserContext:
    """A fresh browser profile pointed at the server, its pages watched for script errors."""
    context = browser.new_context(
        base_url=server,
        viewport=viewport or {"width": 1280, "height": 900},
        bypass_csp=bypass_csp,
    )
    context.set_default_timeout(20_000)
    context.on("page", _watch)
    return context


def log_in(page: Page, username: str, password: str) -> None:
    """Log in through the login form."""
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page).not_to_have_url(re.compile(r"/login"))


@pytest.fixture(scope="session")
def admin_page(browser: Browser, server: str) -> Iterator[Page]:
    """One admin's tab, kept across the journey's steps as a person's would be."""
    context = new_context(browser, server)
    page = context.new_page()
    log_in(page, "admin", ADMIN_PASSWORD)
    yield page
    context.close()


@pytest.fixture
def fresh_context(browser: Browser, server: str) -> Iterator[BrowserContext]:
    """A browser profile with no session, closed after the test."""
    context = new_context(browser, server)
    yield context
    context.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Keep each phase's report on the item, for the screenshot fixture."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(autouse=True)
def screenshot_on_failure(request: pytest.FixtureRequest, browser: Browser) -> Iterator[None]:
    """Save every open tab as a PNG under build/browser-failures/ when a test fails."""
    PAGE_ERRORS.clear()
    yield
    report = getattr(request.node, "report_call", None)
    if report is None or not report.failed:
        assert PAGE_ERRORS == [], "pages logged script errors or CSP refusals"
        return
    FAILURES.mkdir(parents=True, exist_ok=True)
    for c, context in enumerate(browser.contexts):
        for p, page in enumerate(context.pages):
            path = FAILURES / f"{request.node.name}-{c}-{p}.png"
            page.screenshot(path=str(path), full_page=True)
            print(f"screenshot of {page.url}: {path}")
