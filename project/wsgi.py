"""WSGI entry point (gunicorn project.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

from clicktocall.headers import ContentTypeGuard

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
application = ContentTypeGuard(get_wsgi_application())
