"""The two ready-made groups of admin users, created by a migration.

- *Campaign staff*: edit lines, their targets and the blocklist, place test calls, read
  the attempts and export them as CSV.
- *Viewers*: read everything above and export it; change nothing.

Give a colleague access: create their user (staff status on), then add it to a group.
"""

from __future__ import annotations

from typing import Any

CAMPAIGN_STAFF = "Campaign staff"
VIEWERS = "Viewers"

EDITED = ["campaignline", "target", "blockentry"]
READ = ["callattempt", "callleg"]

GROUPS: dict[str, list[str]] = {
    CAMPAIGN_STAFF: [f"{action}_{model}" for model in EDITED for action in ("add", "change", "delete", "view")]
    + [f"view_{model}" for model in READ],
    VIEWERS: [f"view_{model}" for model in EDITED + READ],
}


def create_groups(apps: Any, schema_editor: Any = None) -> None:
    """Create (or complete) the groups with their permissions; ``apps`` may be a migration's."""
    from django.contrib.auth.management import create_permissions

    app_config = apps.get_app_config("clicktocall")
    app_config.models_module = getattr(app_config, "models_module", None) or True  # a migration's stub has none
    create_permissions(app_config, apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        permissions = Permission.objects.filter(content_type__app_label="clicktocall", codename__in=codenames)
        group.permissions.add(*permissions)
