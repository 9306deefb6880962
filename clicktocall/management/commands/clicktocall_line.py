"""Create or update a campaign line: ``manage.py clicktocall_line NUMBER [--name …]``."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from ... import phone
from ...models import CampaignLine


class Command(BaseCommand):
    help = "Create or update a campaign line (any human number format; stored in E.164) and print it."

    def add_arguments(self, parser):
        parser.add_argument("number", help="the line's number, e.g. 8559299898 or +1 855 929 9898")
        parser.add_argument("--name", help="a name staff will recognize")
        state = parser.add_mutually_exclusive_group()
        state.add_argument("--inactive", action="store_true", help="switch the line off")
        state.add_argument("--active", action="store_true", help="switch the line on (the default for a new line)")
        parser.add_argument(
            "--redirect-host",
            action="append",
            dest="redirect_hosts",
            metavar="HOST",
            help="a host revmsghtml may redirect to (repeatable; replaces the list)",
        )

    def handle(self, *args, **options):
        try:
            number = phone.normalize(options["number"])
        except phone.InvalidNumber:
            raise CommandError(f"{options['number']!r} is not a valid phone number") from None
        line = CampaignLine.objects.filter(phone_number=number).first()
        created = line is None
        if line is None:
            line = CampaignLine(phone_number=number)
        if options["name"] is not None:
            line.name = options["name"]
        if options["inactive"]:
            line.is_active = False
        elif options["active"]:
            line.is_active = True
        if options["redirect_hosts"] is not None:
            line.redirect_hosts = "\n".join(h.strip() for h in options["redirect_hosts"] if h.strip())
        try:
            line.full_clean()
        except ValidationError as exc:
            problems = "; ".join(f"{field}: {' '.join(errors)}" for field, errors in exc.message_dict.items())
            raise CommandError(problems) from None
        line.save()
        verb = "Created" if created else "Updated"
        hosts = ", ".join(line.redirect_host_list) or "-"
        self.stdout.write(
            f"{verb} line {line.phone_number} name={line.name!r} "
            f"active={'yes' if line.is_active else 'no'} redirect_hosts={hosts}"
        )
