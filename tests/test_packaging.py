"""The app in a throwaway Django project (not ours) set up as the README says: migrate,
place a console call, read the API description; once from this source tree, once built
as a wheel and installed into a fresh virtual environment.

The wheel is slow (about 20 s: pip resolves the dependencies from the registry, mostly
from its cache), but part of the default suite. Deselect with ``-m "not slow"``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

SETTINGS = '''
"""A project that knows nothing of Click-to-Call except what the README says to add."""
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
SECRET_KEY = "throwaway"
DEBUG = False
ALLOWED_HOSTS = ["testserver"]
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "corsheaders",
    "clicktocall",
]
MIDDLEWARE = [
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "hostsite.urls"
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
    ]},
}]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3"}}
USE_TZ = True
STATIC_URL = "/static/"
REST_FRAMEWORK = {"DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"]}
CORS_URLS_REGEX = r"^/outgoing/?$"
CORS_ALLOW_ALL_ORIGINS = True
CLICKTOCALL_TELEPHONY_BACKEND = "console"
CLICKTOCALL_PUBLIC_URL = "https://calls.example.org"
LOGGING = {
    "version": 1,
    "handlers": {"out": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout"}},
    "loggers": {"clicktocall": {"handlers": ["out"], "level": "INFO"}},
}
'''

# The project's own API, which the app's schema must never publish.
API = """
from django.http import HttpResponse
from rest_framework.response import Response
from rest_framework.views import APIView


class InternalView(APIView):
    def get(self, request):
        return Response({"secret": True})


def api_home(request):
    return HttpResponse("the project's own API")
"""

# The app's parts mounted one by one, next to the project's own /api/.
URLS = """
from django.contrib import admin
from django.urls import include, path

from . import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api.api_home),
    path("api/internal/", api.InternalView.as_view()),
    path("", include(([
        path("", include("clicktocall.urls.outgoing")),
        path("calls/", include("clicktocall.urls.webhooks")),
        path("calls/api/", include("clicktocall.urls.docs")),
    ], "clicktocall"))),
]
"""

# All of the app at the site root, as a dedicated site has it.
URLS_ALL = """
from django.contrib import admin
from django.urls import include, path

from . import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/internal/", api.InternalView.as_view()),
    path("", include("clicktocall.urls")),
]
"""

SCRIPT = """
import json, os, sys
os.environ["DJANGO_SETTINGS_MODULE"] = "hostsite.settings"
import django
django.setup()
import clicktocall
from django.contrib.auth.models import User
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.urls import reverse
from django.test import Client, override_settings
from clicktocall.checks import check_settings
from clicktocall.models import CallAttempt


def schema(path):
    response = Client().get(path, {"format": "json"})
    if response.status_code != 200:
        return response.status_code, None
    document = json.loads(response.content)
    return 200, {"paths": sorted(document["paths"]), "title": document["info"]["title"]}


call_command("check", fail_level="WARNING")
call_command("migrate", verbosity=0)
call_command("clicktocall_line", "8559299898", "--name", "Host campaign")
response = Client().post(
    "/outgoing/", {"phone": "(617) 523-2338", "campaign_line": "8559299898"},
    content_type="application/json", HTTP_ORIGIN="https://www.example.org",
)
attempt = CallAttempt.objects.get()
admin = User.objects.create_superuser("admin", password="pw")
staff = Client()
staff.force_login(admin)
stats = staff.get(f"/admin/clicktocall/campaignline/{attempt.line_id}/stats/")
print("RESULT " + json.dumps({
    "module": clicktocall.__file__,
    "status": response.status_code,
    "body": response.json(),
    "cors": response.get("Access-Control-Allow-Origin"),
    "outcome": attempt.outcome,
    "phone": attempt.phone,
    "widget": finders.find("clicktocall/widget.js"),
    "api_docs": Client().get("/calls/api/").status_code,
    "own_api": Client().get("/api/").content.decode(),
    "webhook": reverse("clicktocall:twilio-voice", kwargs={"token": attempt.token}),
    "schema": schema("/calls/api/schema/"),
    "schema_all": override_settings(ROOT_URLCONF="hostsite.urls_all")(schema)("/api/schema/"),
    "e002_hints": [e.hint for e in override_settings(CLICKTOCALL_TELEPHONY_BACKEND="twilio")(check_settings)()
                   if e.id == "clicktocall.E002"],
    "stats": stats.status_code,
    "stats_svg": b'role="img"' in stats.content,
}))
"""


def run(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(args, capture_output=True, text=True, timeout=600, **kwargs)
    assert result.returncode == 0, f"{args[:4]} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.mark.slow
def test_wheel_installs_into_a_fresh_project_and_places_a_call(tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "clicktocall", source / "clicktocall", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))

    dist = tmp_path / "dist"
    run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dist), str(source) + os.sep])
    (wheel,) = dist.glob("django_clicktocall-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for packaged in (
        "clicktocall/migrations/0001_initial.py",
        "clicktocall/templates/clicktocall/result.html",
        "clicktocall/templates/clicktocall/api.html",
        "clicktocall/templates/admin/clicktocall/campaignline/stats.html",
        "clicktocall/static/clicktocall/widget.js",
    ):
        assert packaged in names
    assert not any(name.startswith(("project/", "tests/")) for name in names)

    # The same versions as the development environment, so pip mostly finds them in its cache;
    # only the package's own metadata says *what* to install.
    constraints = tmp_path / "constraints.txt"
    frozen = run([sys.executable, "-m", "pip", "freeze", "--exclude-editable"]).stdout
    constraints.write_text("\n".join(line for line in frozen.splitlines() if "==" in line) + "\n")
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = venv / "bin" / "python"
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "-q",
            "--no-compile",
            "-c",
            str(constraints),
            str(wheel),
        ]
    )

    found, output = run_host_project(tmp_path, python)
    assert found["module"].startswith(str(venv)), "imported our source tree instead of the installed package"
    assert found["widget"].startswith(str(venv))
    assert_host_project_works(found, output)


def test_the_source_tree_in_a_fresh_project(tmp_path):
    found, output = run_host_project(tmp_path, Path(sys.executable), pythonpath=ROOT)
    assert found["module"] == str(ROOT / "clicktocall" / "__init__.py")
    assert_host_project_works(found, output)


def run_host_project(tmp_path: Path, python: Path, pythonpath: Path | None = None) -> tuple[dict, str]:
    """Write the throwaway project, run its script with ``python``; what it found, and its output."""
    site = tmp_path / "site"
    (site / "hostsite").mkdir(parents=True)
    (site / "hostsite" / "__init__.py").write_text("")
    for name, text in (("settings", SETTINGS), ("urls", URLS), ("urls_all", URLS_ALL), ("api", API)):
        (site / "hostsite" / f"{name}.py").write_text(textwrap.dedent(text))
    (site / "place_call.py").write_text(textwrap.dedent(SCRIPT))
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO", "PYTHON", "DATABASE"))}
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    result = run([str(python), "place_call.py"], cwd=site, env=env)
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("RESULT ")]
    return json.loads(line.removeprefix("RESULT ")), result.stdout + result.stderr


def assert_host_project_works(found: dict, output: str) -> None:
    assert found["status"] == 200 and found["body"] == {"error": False, "message": "The call's been placed."}
    assert found["cors"] == "*"
    assert (found["outcome"], found["phone"]) == ("placed", "+16175232338")
    assert found["api_docs"] == 200 and found["stats"] == 200 and found["stats_svg"]
    assert "console telephony: would call +16175232338 from +18559299898" in output
    # The project keeps its own /api/; the app's parts answer where they are mounted.
    assert found["own_api"] == "the project's own API"
    assert found["webhook"].startswith("/calls/twilio/voice/")
    # The API description is the app's alone, mounted one part at a time (here without the
    # results API) or all at the root, public, and never the project's own REST framework views.
    assert found["schema"] == [200, {"paths": ["/outgoing"], "title": "Click-to-Call"}]
    results_api = ["/api/v1/attempts/", "/api/v1/attempts/{id}/", "/api/v1/lines/", "/api/v1/lines/{id}/"]
    assert found["schema_all"] == [
        200,
        {"paths": [*results_api, "/api/v1/lines/{id}/results/", "/outgoing"], "title": "Click-to-Call"},
    ]
    # In a project, settings are not environment variables.
    assert len(found["e002_hints"]) == 2
    assert all("Django settings" in hint and "environment variable" not in hint for hint in found["e002_hints"])
