"""The documentation stays true and walkable: docs/configuration.md is what the settings class renders, every relative
link of the README, docs/ and bench/README.md leads to a file of the repository, and the README fits on a screen.
Plain file reads: no service is started."""

import re
from pathlib import Path

import pytest

from config import LOCAL_S3_SECRET_KEY, ROOT, Settings
from scripts import config_doc

README_MAX_LINES = 150
PAGES = sorted([ROOT / "README.md", ROOT / "bench" / "README.md", *(ROOT / "docs").rglob("*.md")])
FENCED = re.compile(r"^(```|~~~).*?^\1", re.M | re.S)
CODE_SPAN = re.compile(r"`[^`\n]*`")
INLINE_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_LINK = re.compile(r"^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.M)
HTML_LINK = re.compile(r"""(?:href|src)\s*=\s*["']([^"']+)["']""")
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)  # http:, https:, mailto:


def _links(page: Path) -> list[str]:
    text = CODE_SPAN.sub("", FENCED.sub("", page.read_text()))
    return [m.group(1) for pattern in (INLINE_LINK, REFERENCE_LINK, HTML_LINK) for m in pattern.finditer(text)]


def _anchors(page: Path) -> set[str]:
    """GitHub's ids of a page's headings: lower case, punctuation dropped, spaces as hyphens."""
    headings = re.findall(r"^#{1,6}\s+(.+?)\s*#*\s*$", FENCED.sub("", page.read_text()), re.M)
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


def _problem(page: Path, link: str) -> str | None:
    """Why a relative link does not lead to a file of this repository, or None when it does."""
    path, _, anchor = link.partition("#")
    if path.startswith("/"):
        return "an absolute path (write it relative to the page)"
    target = (page.parent / path).resolve() if path else page
    if not target.is_relative_to(ROOT):
        return "leads outside the repository"
    if not target.exists():
        return "no such file"
    if anchor and target.suffix == ".md" and anchor not in _anchors(target):
        return f"no heading #{anchor} in {target.relative_to(ROOT)}"
    return None


def test_the_configuration_page_is_what_the_settings_class_renders() -> None:
    page = config_doc.PAGE
    assert page.is_file(), f"{page.relative_to(ROOT)} is missing: run `{config_doc.COMMAND}`"
    assert page.read_text() == config_doc.render(), (
        f"{page.relative_to(ROOT)} and config.Settings disagree: run `{config_doc.COMMAND}` (or `make docs`) and "
        "commit the page"
    )


def test_the_configuration_page_renders_the_same_twice() -> None:
    assert config_doc.render() == config_doc.render()


def test_every_setting_is_described_and_no_secret_is_shown() -> None:
    undescribed = [name for name, field in Settings.model_fields.items() if not field.description]
    assert not undescribed, f"add Field(description=...) in config.py for {undescribed}"
    page = config_doc.render()
    for name in Settings.model_fields:
        assert f"`{name.upper()}`" in page
    assert LOCAL_S3_SECRET_KEY not in page


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_every_relative_link_leads_to_a_file_of_the_repository(page: Path) -> None:
    links = [link for link in _links(page) if not EXTERNAL.match(link)]
    broken = [f"{link}: {problem}" for link in links if (problem := _problem(page, link))]
    assert not broken, f"{page.relative_to(ROOT)} has broken links:\n" + "\n".join(broken)
    assert "../shared" not in page.read_text(), f"{page.relative_to(ROOT)} points outside the repository (../shared)"


def test_the_docs_pages_exist() -> None:
    names = {page.name for page in (ROOT / "docs").glob("*.md")}
    expected = {"architecture.md", "api.md", "configuration.md", "operations.md", "code-loop.md", "integrations.md"}
    assert expected <= names


def test_the_readme_fits_on_a_screen() -> None:
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines; move detail into docs/"
