"""Set up the demo: a demo line and an admin login (printed, or from the environment)."""

from __future__ import annotations

import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from ...models import CampaignLine, Target

DEMO_LINE = "+18559299898"
DEMO_SCRIPT = (
    "Hello {{ name }}. Thank you for standing up for the park near {{ zip }}. "
    "We will now connect you to your representatives. Tell them you support the park bill."
)
DEMO_TARGETS = [("Representative Adams", "+12025550100"), ("Senator Brown", "+12025550101")]


class Command(BaseCommand):
    help = "Create the demo campaign line and an admin user, and print how to log in."

    def handle(self, *args, **options):
        line, _ = CampaignLine.objects.get_or_create(
            phone_number=DEMO_LINE, defaults={"name": "Demo campaign", "status": CampaignLine.Status.LIVE}
        )
        if not line.script and not line.targets.exists():
            line.script = DEMO_SCRIPT
            line.save(update_fields=["script", "updated_at"])
            for position, (name, number) in enumerate(DEMO_TARGETS):
                Target.objects.create(line=line, position=position, name=name, phone_number=number)
        username = os.environ.get("DJANGO_SUPERUSER_USERNAME", "admin")
        password = os.environ.get("DJANGO_SUPERUSER_PASSWORD", "")
        User = get_user_model()
        user = User.objects.filter(username=username).first()
        shown = password or "(unchanged; set DJANGO_SUPERUSER_PASSWORD to reset it)"
        if user is None:
            password = password or secrets.token_urlsafe(12)
            shown = password
            User.objects.create_superuser(username=username, email="", password=password)
        elif password:
            user.set_password(password)
            user.save(update_fields=["password"])
        self.stdout.write(f"Demo line: {line}")
        self.stdout.write(f"Admin login: {username} / {shown}")
