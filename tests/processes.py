"""The environment of a project process a test starts (manage.py, gunicorn, a settings probe)."""

from __future__ import annotations

import os

PROJECT_PREFIXES = ("DJANGO_", "CLICKTOCALL_", "DATABASE_", "AXES_", "REDIS_", "PYTEST_")


def project_env(**env: str) -> dict[str, str]:
    """This process's environment without the variables the project reads (nor pytest's), then ``env``."""
    return {**{k: v for k, v in os.environ.items() if not k.startswith(PROJECT_PREFIXES)}, **env}
