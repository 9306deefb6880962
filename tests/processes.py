"""The environment of a project process a test starts (manage.py, gunicorn, a settings probe)."""

from __future__ import annotations

import os
import socket

PROJECT_PREFIXES = ("DJANGO_", "CLICKTOCALL_", "DATABASE_", "AXES_", "REDIS_", "PYTEST_")


def project_env(**env: str) -> dict[str, str]:
    """This process's environment without the variables the project reads (nor pytest's), then ``env``."""
    return {**{k: v for k, v in os.environ.items() if not k.startswith(PROJECT_PREFIXES)}, **env}


def free_port() -> int:
    """A loopback port nothing listens on, for a server the test starts."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
