"""Create or update a campaign line: ``manage.py clicktocall_line NUMBER [--name …]``.

Targets from the caller's members of Congress, for example::

    manage.py clicktocall_line 8559299898 --target-source us-congress --chambers senate,house \
        --order house-first --max 2 --custom-targets fallback --caller-id caller
"""

from __future__ import annotations

from argparse import ArgumentTypeError, BooleanOptionalAction

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from ... import phone
from ...models import CampaignLine

TARGET_OPTIONS = {
    "target_source": "target_source",
    "chambers": "congress_chambers",
    "order": "congress_order",
    "shuffle": "congress_shuffle",
    "max": "congress_max",
    "custom_targets": "congress_custom",
    "split_zip": "congress_split",
    "office": "congress_office",
    "next_office": "congress_office_fallback",
    "caller_id": "caller_id",
}


def _chambers(text: str) -> str:
    """``senate,house`` (either order), ``senate`` or ``house``: the line's ``congress_chambers``."""
    chosen = {part.strip().lower() for part in text.split(",") if part.strip()}
    if chosen == {"senate", "house"}:
        return CampaignLine.Chambers.BOTH
    if len(chosen) == 1 and chosen <= {"senate", "house"}:
        return chosen.pop()
    raise ArgumentTypeError(f"{text!r}: use senate,house, senate or house")


class Command(BaseCommand):
    help = "Create or update a campaign line (any human number format; stored in E.164) and print it."

    def add_arguments(self, parser):
        parser.add_argument("number", help="the line's number, e.g. 8559299898 or +1 855 929 9898")
        parser.add_argument("--name", help="a name staff will recognize")
        state = parser.add_mutually_exclusive_group()
        state.add_argument("--inactive", action="store_true", help="switch the line off")
        state.add_argument("--active", action="store_true", help="switch the line on (the default for a new line)")
        state.add_argument(
            "--status", choices=CampaignLine.Status.values, help="live, paused (as --inactive) or archived (hidden)"
        )
        parser.add_argument(
            "--redirect-host",
            action="append",
            dest="redirect_hosts",
            metavar="HOST",
            help="a host revmsghtml may redirect to (repeatable; replaces the list)",
        )
        targets = parser.add_argument_group("targets")
        targets.add_argument(
            "--target-source", choices=CampaignLine.TargetSource.values, help="where targets come from"
        )
        targets.add_argument(
            "--chambers", type=_chambers, help="US Congress: senate,house (the default), senate or house"
        )
        targets.add_argument(
            "--order", choices=CampaignLine.ChamberOrder.values, help="US Congress: which chamber first"
        )
        targets.add_argument(
            "--shuffle", action=BooleanOptionalAction, help="US Congress: shuffle the members within a chamber"
        )
        targets.add_argument("--max", type=int, metavar="N", help="US Congress: call at most N members (0: all)")
        targets.add_argument(
            "--custom-targets",
            choices=CampaignLine.CustomTargets.values,
            help="US Congress: when the line's own targets are called",
        )
        targets.add_argument(
            "--split-zip", choices=CampaignLine.SplitZip.values, help="US Congress: a ZIP code in several districts"
        )
        targets.add_argument("--office", choices=CampaignLine.Office.values, help="US Congress: the office dialed")
        targets.add_argument(
            "--next-office",
            action=BooleanOptionalAction,
            help="US Congress: try the member's next office when one is busy or does not answer",
        )
        targets.add_argument("--caller-id", choices=CampaignLine.CallerId.values, help="the number targets see")

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
        elif options["status"]:
            line.status = options["status"]
        if options["redirect_hosts"] is not None:
            line.redirect_hosts = "\n".join(h.strip() for h in options["redirect_hosts"] if h.strip())
        if options["max"] is not None and options["max"] < 0:
            raise CommandError("--max must be 0 (all) or more")
        for option, field in TARGET_OPTIONS.items():
            if options[option] is not None:
                setattr(line, field, options[option])
        if options["max"] == 0:
            line.congress_max = None
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
            f"active={'yes' if line.is_active else 'no'} status={line.status} redirect_hosts={hosts}"
        )
        if line.target_source != CampaignLine.TargetSource.CUSTOM:
            self.stdout.write(
                f"targets={line.target_source} chambers={line.congress_chambers} order={line.congress_order} "
                f"shuffle={'yes' if line.congress_shuffle else 'no'} max={line.congress_max or 'all'} "
                f"custom_targets={line.congress_custom} split_zip={line.congress_split} office={line.congress_office} "
                f"next_office={'yes' if line.congress_office_fallback else 'no'} caller_id={line.caller_id}"
            )
