"""Checks every page must pass: it fits a phone's screen, and axe-core finds no serious fault."""

from pathlib import Path

from playwright.sync_api import Page

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
PHONE = {"width": 390, "height": 844}
# Chromium drops an <audio>'s play button below about this width.
MIN_AUDIO_PX = 200
BLOCKING = ("serious", "critical")


def overflow(page: Page) -> dict:
    """How wide the page is against the window, and the widths of its players."""
    return page.evaluate(
        """() => ({
          url: location.pathname,
          scrollWidth: document.documentElement.scrollWidth,
          innerWidth: window.innerWidth,
          audio: [...document.querySelectorAll("audio")]
            .filter((a) => a.offsetParent !== null)
            .map((a) => Math.round(a.getBoundingClientRect().width)),
        })"""
    )


def assert_fits(page: Page) -> None:
    """No sideways scrolling, and every visible player wide enough to keep its controls."""
    seen = overflow(page)
    assert seen["scrollWidth"] <= seen["innerWidth"], seen
    assert all(width >= MIN_AUDIO_PX for width in seen["audio"]), seen


def axe_faults(page: Page) -> list[str]:
    """axe-core's serious and critical violations on the page, one line each."""
    # The context bypasses the CSP for this script alone: the pages allow only their own.
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => (await axe.run(document)).violations")
    return [
        f"{page.url}: {v['id']} ({v['impact']}): {v['help']}: "
        + "; ".join(node["target"][0] for node in v["nodes"][:5])
        for v in result
        if v["impact"] in BLOCKING
    ]
