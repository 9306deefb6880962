"""Benchmark-only settings: the project's, plus the baseline view's urlconf.

Never used in production: ``ROOT_URLCONF`` adds ``/bench/baseline/`` to the project's URLs.
"""

from project.settings import *  # noqa: F403

ROOT_URLCONF = "benchmarks.urls"
# The growth benchmark renders admin pages in-process without running collectstatic.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
