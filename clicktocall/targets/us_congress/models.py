"""Tables of the US Congress target source: the dataset, members, their offices, ZIP areas."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


def seat_code(chamber: str, state: str, district: int | None) -> str:
    """A seat as written in messages and ``--vacant``: ``MA-senate``, ``MA-08``, ``DC-00``."""
    return f"{state}-senate" if chamber == "senate" else f"{state}-{district or 0:02d}"


class CongressDataset(models.Model):
    """The loaded release of the data: where it came from and when (one row, the current one)."""

    version = models.CharField(_("version"), max_length=64)
    source = models.CharField(_("source"), max_length=2048, help_text=_("The folder or URL it was loaded from."))
    released = models.DateField(_("release date"), help_text=_("The date of the newest source file."))
    commits = models.JSONField(_("source commits"), default=dict, blank=True)
    checksums = models.JSONField(_("sha256 of the files"), default=dict, blank=True)
    vacant = models.JSONField(_("known vacant seats"), default=list, blank=True)
    loaded_at = models.DateTimeField(_("loaded"), auto_now_add=True)

    class Meta:
        app_label = "clicktocall"
        verbose_name = _("US Congress dataset")

    def __str__(self) -> str:
        return f"{self.version} ({self.released})"


class CongressMember(models.Model):
    """A sitting member of Congress, as of the dataset."""

    class Chamber(models.TextChoices):
        SENATE = "senate", _("Senate")
        HOUSE = "house", _("House")

    bioguide = models.CharField(_("bioguide id"), max_length=16, primary_key=True)
    chamber = models.CharField(_("chamber"), max_length=8, choices=Chamber.choices)
    title = models.CharField(_("title"), max_length=32, help_text=_("Senator, Representative, Delegate…"))
    name = models.CharField(_("name"), max_length=255)
    state = models.CharField(_("state"), max_length=2)
    district = models.PositiveSmallIntegerField(_("district"), null=True, blank=True)
    state_rank = models.CharField(_("rank"), max_length=8, blank=True)
    party = models.CharField(_("party"), max_length=64, blank=True)
    phone_number = models.CharField(_("DC office number"), max_length=16, blank=True)
    term_end = models.DateField(_("term ends"))

    class Meta:
        app_label = "clicktocall"
        ordering = ["state", "chamber", "district", "name"]
        verbose_name = _("member of Congress")
        verbose_name_plural = _("members of Congress")
        indexes = [models.Index(fields=["state", "chamber", "district"], name="ctc_member_seat")]

    def __str__(self) -> str:
        return f"{self.label} ({self.seat})"

    @property
    def label(self) -> str:
        """What the call says: title and name, e.g. "Senator Elizabeth Warren"."""
        return f"{self.title} {self.name}"

    @property
    def seat(self) -> str:
        return seat_code(self.chamber, self.state, self.district)


class CongressOffice(models.Model):
    """A district or state office of a member (the DC office is the member's own number)."""

    office_id = models.CharField(_("office id"), max_length=96, primary_key=True)
    member = models.ForeignKey(CongressMember, on_delete=models.CASCADE, related_name="offices")
    city = models.CharField(_("city"), max_length=128, blank=True)
    state = models.CharField(_("state"), max_length=2, blank=True)
    zip = models.CharField(_("ZIP code"), max_length=10, blank=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    phone_number = models.CharField(_("number"), max_length=16)

    class Meta:
        app_label = "clicktocall"
        ordering = ["member", "office_id"]
        verbose_name = _("congressional office")

    def __str__(self) -> str:
        return f"{self.city}, {self.state}"


class ZipDistrict(models.Model):
    """A ZIP code tabulation area that lies (at least partly) in a congressional district."""

    zcta = models.CharField(_("ZIP code area"), max_length=5)
    state = models.CharField(_("state"), max_length=2)
    district = models.PositiveSmallIntegerField(_("district"))

    class Meta:
        app_label = "clicktocall"
        verbose_name = _("ZIP code area in a district")
        indexes = [models.Index(fields=["zcta"], name="ctc_zip_district")]

    def __str__(self) -> str:
        return f"{self.zcta} → {self.state}-{self.district:02d}"
