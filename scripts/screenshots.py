#!/usr/bin/env python
"""Take the documentation's screenshots (docs/*.png) with Playwright in Debian's chromium.

    .venv/bin/python scripts/screenshots.py      writes the PNG files of docs/ (see SHOTS)

Runs the project on a throwaway SQLite database with a seeded month of calls, and a
customer page with the widget on a second origin.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import shutil
import socket
import sys
import tempfile
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
WIDTH = 1280  # the admin's pages are taken at a laptop's width: nothing may be cut off there
SHOTS = ["stats.png", "embed.png", "widget.png", "line-form.png", "test-call.png", "attempts.png"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the stdlib's name
        pass


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="ctc-shots-"))
    app_port, site_port = free_port(), free_port()
    app_url = f"http://localhost:{app_port}"
    os.environ.update(
        DJANGO_SETTINGS_MODULE="project.settings",
        DATABASE_URL=f"sqlite:///{workdir / 'db.sqlite3'}",
        CLICKTOCALL_TELEPHONY_BACKEND="console",
        CLICKTOCALL_PUBLIC_URL=app_url,
        CLICKTOCALL_LOG_LEVEL="ERROR",
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    import logging

    from django.contrib.auth.models import User
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.core.management import call_command
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
    from django.core.wsgi import get_wsgi_application
    from django.utils import timezone

    from clicktocall import embed
    from clicktocall.models import CampaignLine, Target
    from tests.stats_data import history

    logging.disable(logging.WARNING)
    call_command("migrate", verbosity=0)
    line = CampaignLine.objects.create(
        phone_number="+18559299898",
        name="Save the park",
        script="Hello {{ name }}. Riverside Park closes next month unless the Senate acts. Please tell "
        '{{ office | "your senators" }} to save {{ park_name | "the park" }}.',
    )
    targets = [
        Target.objects.create(line=line, position=0, name="Sen. Warren", phone_number="+12022244543"),
        Target.objects.create(line=line, position=1, name="Sen. Markey", phone_number="+12022242742"),
        Target.objects.create(line=line, position=2, name="Rep. Pressley", phone_number="+12022255111"),
    ]
    history(line, targets, days=30, today=timezone.localdate() - dt.timedelta(days=0))
    User.objects.create_superuser("staff", password="screenshots-only")

    class Handler(WSGIRequestHandler):
        def log_message(self, format, *args):  # noqa: A002
            pass

    server = ThreadedWSGIServer(("127.0.0.1", app_port), Handler)
    server.set_app(StaticFilesHandler(get_wsgi_application()))
    threading.Thread(target=server.serve_forever, daemon=True).start()

    site = workdir / "site"
    site.mkdir()
    snippet = embed.snippets("8559299898", thanks_url=f"http://127.0.0.1:{site_port}/thanks.html").widget
    (site / "act.html").write_text(
        f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Save the park</title>
        <style>body{{font:18px/1.5 Georgia,serif;max-width:34rem;margin:2rem auto;color:#222}}</style></head>
        <body><h1>Save Riverside Park</h1><p>Tell your senators to keep the park open. Leave your number:
        we will call you and connect you to their offices.</p>{snippet}</body></html>""",
        encoding="utf-8",
    )
    site_server = ThreadingHTTPServer(("127.0.0.1", site_port), functools.partial(Quiet, directory=str(site)))
    threading.Thread(target=site_server.serve_forever, daemon=True).start()

    from playwright.sync_api import sync_playwright

    DOCS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": WIDTH, "height": 900})
        page.goto(f"{app_url}/admin/login/?next=/admin/clicktocall/campaignline/{line.pk}/stats/")
        page.get_by_label("Username").fill("staff")
        page.get_by_label("Password").fill("screenshots-only")
        page.get_by_role("button", name="Log in").click()
        page.wait_for_selector("#ctc-chart-days")
        page.screenshot(path=str(DOCS / "stats.png"), full_page=True)

        page.goto(f"{app_url}/admin/clicktocall/campaignline/{line.pk}/change/")
        page.locator(".ctc-embed").screenshot(path=str(DOCS / "embed.png"))
        page.screenshot(path=str(DOCS / "line-form.png"), full_page=True)

        page.get_by_label("Your phone number").fill("(617) 523-2338")
        page.get_by_role("button", name="Call me now").click()
        page.wait_for_selector(".ctc-test-call .ctc-transcript")
        page.locator(".ctc-test-call").screenshot(path=str(DOCS / "test-call.png"))

        page.goto(f"{app_url}/admin/clicktocall/callattempt/")
        page.screenshot(path=str(DOCS / "attempts.png"))

        widget = browser.new_page(viewport={"width": 800, "height": 720})
        widget.goto(f"http://127.0.0.1:{site_port}/act.html")
        widget.get_by_label("Your phone number").fill("(617) 523-2338")
        widget.get_by_label("Your name (optional)").fill("Ada Lovelace")
        widget.get_by_role("button", name="Call me").focus()
        widget.keyboard.press("Enter")
        widget.get_by_role("status").filter(has_text="The call's been placed.").wait_for()
        widget.get_by_role("button", name="Call me").focus()
        widget.screenshot(path=str(DOCS / "widget.png"), full_page=True)
        browser.close()
    server.shutdown()
    site_server.shutdown()
    shutil.rmtree(workdir, ignore_errors=True)
    for name in SHOTS:
        print(DOCS / name)


if __name__ == "__main__":
    main()
