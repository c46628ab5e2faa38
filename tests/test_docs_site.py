"""The docs site builds strictly, a broken link fails the build, and README's links land.

``nox -s docs`` runs ``mkdocs build --strict``; mkdocs.yml turns broken links,
unknown anchors and pages left out of the nav into warnings, which strict mode
makes errors. These tests build a copy of docs/ and mkdocs.yml in a temporary
folder, as it stands and with a broken link planted, so the check is shown to bite.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from docs_pages import DOCS, REPO, page


def _copy_site_sources(into: Path) -> Path:
    shutil.copytree(DOCS, into / "docs")
    shutil.copy2(REPO / "mkdocs.yml", into / "mkdocs.yml")
    return into


def _build(project: Path) -> subprocess.CompletedProcess[str]:
    """``mkdocs build --strict`` of the project folder, into its own ``site``."""
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir",
         str(project / "site")],
        cwd=project, capture_output=True, text=True, timeout=300,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})


@pytest.fixture(scope="module")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site built from an unmodified copy of docs/ and mkdocs.yml."""
    project = _copy_site_sources(tmp_path_factory.mktemp("docs-site"))
    result = _build(project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stderr, result.stderr
    return project / "site"


def test_the_docs_build_strictly_as_they_are(built_site):
    assert (built_site / "index.html").is_file()
    assert (built_site / "plugins" / "hooks" / "index.html").is_file()
    assert (built_site / "images" / "web-page.png").is_file()


@pytest.mark.parametrize(("planted", "named"), [
    ("[a page that is not there](no-such-page.md)", "no-such-page.md"),
    ("[a section that is not there](cli.md#no-such-section)", "no-such-section"),
], ids=["missing-page", "unknown-anchor"])
def test_a_broken_link_fails_the_build_naming_it(tmp_path, planted, named):
    project = _copy_site_sources(tmp_path)
    data_page = project / "docs" / "data.md"
    data_page.write_text(data_page.read_text("utf-8") + f"\nSee {planted}.\n", "utf-8")
    result = _build(project)
    assert result.returncode != 0
    warnings = [line for line in result.stderr.splitlines() if "WARNING" in line]
    assert any("data.md" in line and named in line for line in warnings), result.stderr


def test_a_page_left_out_of_the_nav_fails_the_build(tmp_path):
    project = _copy_site_sources(tmp_path)
    (project / "docs" / "stray.md").write_text("# A page no nav entry names\n", "utf-8")
    result = _build(project)
    assert result.returncode != 0
    assert "stray.md" in result.stderr


def test_readmes_links_into_the_docs_land_on_a_page_and_a_heading(built_site):
    """README.md lies outside the site, so mkdocs does not check its links: this does."""
    links = re.findall(r"\]\((docs/[^)#\s]*)(?:#([^)\s]+))?\)", page("README.md"))
    assert len(links) >= 10, links
    for target, anchor in links:
        assert (REPO / target).exists(), f"README.md links to {target}, which does not exist"
        if anchor:
            relative = Path(target).relative_to("docs").with_suffix("")
            html_file = built_site / (relative.parent if relative.name == "index"
                                      else relative) / "index.html"
            assert f'id="{anchor}"' in html_file.read_text("utf-8"), (
                f"README.md links to {target}#{anchor}, a heading that page does not have")
