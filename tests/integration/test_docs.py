"""The documentation's promises: every setting documented, every link resolving, a short README."""

import re
import subprocess
from pathlib import Path
from urllib.parse import unquote

import pytest

from tests.factories import DOCS, README, REPO, readme_block
from voicesmith.config import Settings

CONFIGURATION = DOCS / "CONFIGURATION.md"
DOCUMENTS = [README, *sorted(DOCS.glob("*.md"))]
README_MAX_LINES = 160
README_LINKS = ["API.md", "CONFIGURATION.md", "DEPLOY.md", "RELIABILITY.md", "ARCHITECTURE.md"]

FENCED = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)
INLINE_CODE = re.compile(r"`[^`\n]*`")
# [text](target "title") and ![alt](target), reference definitions, and HTML src/href.
INLINE_LINK = re.compile(r"!?\[[^\]]*\]\(\s*(<[^>]*>|[^)\s]*)[^)]*\)")
REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*(\S+)", re.M)
HTML_LINK = re.compile(r"""\b(?:src|href)\s*=\s*["']([^"']*)["']""")
SCHEME = re.compile(r"[a-z][a-z0-9+.-]*:", re.I)
WEB_URL = re.compile(r"https?://[^/\s]+", re.I)


def link_targets(markdown: str) -> list[str]:
    """Every link and image target in a markdown text, outside code."""
    prose = INLINE_CODE.sub("", FENCED.sub("", markdown))
    found = [*INLINE_LINK.findall(prose), *REFERENCE.findall(prose), *HTML_LINK.findall(prose)]
    return [target.strip("<>") for target in found]


def broken_links(markdown: str, document: Path) -> dict[str, str]:
    """The targets in a document's text that do not resolve, each with the reason."""
    broken = {}
    for target in link_targets(markdown):
        if SCHEME.match(target) or target.startswith("//"):
            if not WEB_URL.match(target):
                broken[target] = "an absolute link must be an http(s):// URL"
            continue
        path = unquote(target.split("#", 1)[0].split("?", 1)[0])
        if not path:
            continue  # an anchor in the same document
        resolved = (document.parent / path).resolve()
        if path.startswith("/") or not resolved.is_relative_to(REPO):
            broken[target] = "points outside the repository"
        elif not resolved.is_file():
            broken[target] = "no such file in the repository"
    return broken


def test_configuration_documents_every_setting():
    text = CONFIGURATION.read_text(encoding="utf-8")
    missing = [
        f"VOICESMITH_{name.upper()}"
        for name in Settings.model_fields
        if f"`VOICESMITH_{name.upper()}`" not in text
    ]
    assert not missing, f"not in {CONFIGURATION.name}: {missing}"


def test_readme_is_short():
    lines = len(README.read_text(encoding="utf-8").splitlines())
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines; move the detail to docs/"


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(REPO)))
def test_links_resolve_inside_the_repository(document):
    assert broken_links(document.read_text(encoding="utf-8"), document) == {}


def test_broken_links_are_caught():
    text = (
        "[ok](API.md) [ok](../README.md#a-first-session-with-curl) [ok](#here) "
        '[ok](https://example.org/x "title") ![ok](screenshots/job-page.png) '
        "[gone](NOPE.md) [up](../../outside.md) [root](/etc/passwd) [ftp](ftp://host/x) "
        "![gone](screenshots/nope.png#x) `[code](NOPE.md)`\n"
        "```\n[fenced](FENCED.md)\n```\n"
        "[ref]: missing.md\n"
        '<img src="gone.png">\n'
    )
    assert broken_links(text, DOCS / "page.md") == {
        "NOPE.md": "no such file in the repository",
        "../../outside.md": "points outside the repository",
        "/etc/passwd": "points outside the repository",
        "ftp://host/x": "an absolute link must be an http(s):// URL",
        "screenshots/nope.png#x": "no such file in the repository",
        "missing.md": "no such file in the repository",
        "gone.png": "no such file in the repository",
    }


def test_readme_links_every_document():
    targets = {t.split("#")[0] for t in link_targets(README.read_text(encoding="utf-8"))}
    assert [name for name in README_LINKS if f"docs/{name}" not in targets] == []


def test_readme_has_the_curl_session():
    script = readme_block("curl-session", "bash")
    for step in ("/auth/login", "/upload-batch", "/training/start", "/synthesize-trained"):
        assert step in script, step
    checked = subprocess.run(["bash", "-n", "-c", script], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr


def test_api_doc_has_the_openai_example():
    assert "OpenAI(" in readme_block("openai-example", "python", doc="docs/API.md")
