"""The admin site of this deployment: branded Click-to-Call, and only the apps staff need.

Login lockouts (django-axes) and task results (the task queue's tables) are listed for
superusers only; campaign staff see their lines, attempts and blocklist. (The groups
give no permission on them either: see ``clicktocall.groups``.)
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig

SUPERUSER_ONLY_APPS = frozenset({"axes", "django_tasks_db"})


class ClickToCallAdminSite(admin.AdminSite):
    site_header = "Click-to-Call"
    site_title = "Click-to-Call"
    index_title = "Campaigns"

    def get_app_list(self, request, app_label=None):
        apps = super().get_app_list(request, app_label)
        if request.user.is_superuser:
            return apps
        return [app for app in apps if app["app_label"] not in SUPERUSER_ONLY_APPS]


class ClickToCallAdminConfig(AdminConfig):
    default_site = "project.admin.ClickToCallAdminSite"
