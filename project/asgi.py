"""ASGI entry point."""

import os

from django.core.asgi import get_asgi_application

from clicktocall.headers import ASGIContentTypeGuard

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
application = ASGIContentTypeGuard(get_asgi_application())
