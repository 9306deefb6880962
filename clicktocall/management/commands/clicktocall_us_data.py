"""Load or refresh the US Congress data (ZIP code areas → districts, members, offices).

    python manage.py clicktocall_us_data                          # the shipped data, when none is loaded yet
    python manage.py clicktocall_us_data --from /path/to/release  # a folder holding newer files
    python manage.py clicktocall_us_data --from https://example.org/us-data/ --vacant TX-18
    python manage.py clicktocall_us_data --check --from PATH      # check and show the changes only

The release is checked before anything is replaced, and replaced in one transaction;
when a check fails the command lists the problems, exits with an error and the data
stays as it was.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ...targets.us_congress import loader
from ...targets.us_congress.models import CongressDataset


class Command(BaseCommand):
    help = "Load the US Congress data shipped with the app, or a newer release from a folder or URL."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--from",
            dest="source",
            metavar="PATH_OR_URL",
            help="a folder or http(s) URL holding zccd.csv, legislators-current.yaml and "
            "legislators-district-offices.yaml (each may be .xz or .gz); default: the shipped data",
        )
        parser.add_argument(
            "--vacant",
            action="append",
            default=[],
            metavar="SEAT",
            help="a seat known to be vacant, e.g. TX-18 or NJ-senate (repeatable; kept until filled)",
        )
        parser.add_argument("--check", action="store_true", help="check the release and show the changes only")

    def handle(self, *args, **options):
        current = CongressDataset.objects.first()
        if not options["source"] and current is not None and not options["check"]:
            # Never replace a newer release by the shipped one unasked: safe to run at every deploy.
            self.stdout.write(
                f"US Congress data {current.version} (released {current.released}) is loaded from {current.source}; "
                f"to load another release: --from PATH_OR_URL (the shipped one: --from {loader.PACKAGE_DATA})."
            )
            return
        source = options["source"] or str(loader.PACKAGE_DATA)
        vacant = {code.strip().upper().replace("-SENATE", "-senate") for code in options["vacant"] if code.strip()}
        try:
            if options["check"]:
                release = loader.read(source)
                known = loader.vacancies(release, vacant | set(current.vacant if current else ()))
                problems = loader.check(release, known)
                if problems:
                    raise loader.DataError(f"the release at {source} fails {len(problems)} checks", problems)
                lines = [f"note: {note}" for note in release.notes] + loader.changes(release)
                self.stdout.write(f"{source}: version {release.version} passes every check.")
            else:
                dataset, lines = loader.load(source, vacant)
                self.stdout.write(f"Loaded US Congress data {dataset.version} from {source}.")
        except loader.DataError as exc:
            for problem in exc.problems[:50]:
                self.stderr.write(f"  {problem}")
            if len(exc.problems) > 50:
                self.stderr.write(f"  … and {len(exc.problems) - 50} more")
            raise CommandError(f"{exc}; the data was left as it was.") from None
        for line in lines:
            self.stdout.write(f"  {line}")
        if not lines:
            self.stdout.write("  no change in members or districts")
