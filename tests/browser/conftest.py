"""Browser fixtures: Debian's chromium driven by Playwright, and a customer site.

The customer site is a second HTTP server on another port, hence another origin than
the live server, serving pages a test writes and jQuery from ``node_modules``.
"""

from __future__ import annotations

import functools
import os
import shutil
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls tests make
# between page actions are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
JQUERY = ROOT / "node_modules" / "jquery" / "dist" / "jquery.min.js"


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


class CustomerSite:
    """A static site on its own origin; ``add_page`` writes a page, ``url`` finds it."""

    def __init__(self, root: Path, port: int, host: str = "127.0.0.1"):
        self.root = root
        self.origin = f"http://{host}:{port}"

    def add_page(self, name: str, html: str) -> str:
        (self.root / name).write_text(html, encoding="utf-8")
        return self.url(name)

    def url(self, name: str) -> str:
        return f"{self.origin}/{name}"


@pytest.fixture
def customer_site(tmp_path):
    """A second origin: http://127.0.0.1:PORT, while the live server is http://localhost:PORT."""
    root = tmp_path / "site"
    root.mkdir()
    if JQUERY.exists():
        shutil.copy(JQUERY, root / "jquery.min.js")
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield CustomerSite(root, server.server_address[1])
    server.shutdown()
    server.server_close()


@pytest.fixture
def jquery():
    if not JQUERY.exists():
        pytest.skip("jQuery is not installed (npm ci)")
    return JQUERY


@pytest.fixture
def app_url(live_server):
    """The live server's origin as ``http://localhost:PORT`` (another origin than the site)."""
    return live_server.url.replace("127.0.0.1", "localhost")


STAFF_PASSWORD = "a long and unguessable passphrase"


def log_in_as_staff(page, live_server, next_path: str):
    """Create a superuser ``staff`` and log in through the admin's login form, heading for ``next_path``."""
    from django.contrib.auth.models import User

    user = User.objects.create_superuser("staff", "staff@example.org", STAFF_PASSWORD)
    page.goto(f"{live_server.url}/admin/login/?next={next_path}")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    return user


def csp_violations(page) -> list[str]:
    """The Content-Security-Policy violations the page reports from now on (a list that fills up)."""
    violations: list[str] = []
    page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    return violations


def log_in_to_the_admin(page, live_server) -> None:
    log_in_as_staff(page, live_server, "/admin/")
    page.wait_for_url(f"{live_server.url}/admin/")


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the stdlib's name
        pass
