"""The documentation's links lead somewhere: every relative link in README.md, SECURITY.md and
docs/*.md names a file of the checkout, and every #anchor a heading of that file, as GitHub
writes its anchors. (MANIFEST.in puts docs/ in the source distribution, so the links work
in the package too.)"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", ROOT / "SECURITY.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.S | re.M)


def anchors(page: Path) -> set[str]:
    """GitHub's anchors of the page's headings: lower case, punctuation dropped, spaces as hyphens."""
    found: set[str] = set()
    for heading in re.findall(r"^#{1,6} (.+)$", FENCE.sub("", page.read_text(encoding="utf-8")), re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        candidate, n = slug, 0
        while candidate in found:
            n += 1
            candidate = f"{slug}-{n}"
        found.add(candidate)
    return found


def links(page: Path) -> list[str]:
    return LINK.findall(FENCE.sub("", page.read_text(encoding="utf-8")))


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_and_anchor_exists(page):
    broken = []
    for target in links(page):
        if re.match(r"^[a-z]+:", target):
            continue  # http:, https:, mailto:
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        if not linked.exists() or ROOT not in linked.parents and linked != ROOT:
            broken.append(target)
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            broken.append(target)
    assert not broken, f"{page.name}: {broken}"


def test_the_readme_is_a_door():
    """What it is, the two commands, and where to read next: no more."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "./scripts/run.sh" in readme and "./scripts/test.sh" in readme
    assert len(readme.splitlines()) < 120
    for page in ("docs/staff.md", "docs/embedding.md", "docs/api.md", "docs/operations.md", "docs/development.md"):
        assert f"]({page}" in readme, page


def _python_with_setuptools() -> str | None:
    import shutil
    import subprocess
    import sys

    for python in (sys.executable, shutil.which("python3"), "/usr/bin/python3"):
        if (
            python
            and subprocess.run([python, "-c", "import setuptools.build_meta"], capture_output=True).returncode == 0
        ):
            return python
    return None


def test_the_source_distribution_carries_the_linked_docs(tmp_path):
    """The README's links into docs/ resolve in the unpacked source distribution."""
    import shutil
    import subprocess
    import tarfile

    python = _python_with_setuptools()
    if python is None:
        pytest.skip("no Python with setuptools to build the source distribution")
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "SECURITY.md", "MANIFEST.in"):
        shutil.copy(ROOT / name, source / name)
    for name in ("clicktocall", "docs"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    build = "from setuptools import build_meta; print(build_meta.build_sdist('dist'))"
    made = subprocess.run([python, "-c", build], cwd=source, capture_output=True, text=True, check=True)
    with tarfile.open(source / "dist" / made.stdout.strip().splitlines()[-1]) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    wanted = {target.partition("#")[0] for target in links(ROOT / "README.md") if not re.match(r"^[a-z]+:", target)}
    wanted.discard("")
    assert wanted and wanted <= names, sorted(wanted - names)
