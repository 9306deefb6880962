"""API tokens: one per use (a CRM sync, a dashboard), owned by a staff user, revocable.

Only a SHA-256 of the token is stored; the token itself is shown once, when it is created.
"""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

PREFIX = "ctc_"


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiToken(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("user")
    )
    name = models.CharField(_("name"), max_length=255, help_text=_("What the token is for, e.g. CRM sync."))
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    hint = models.CharField(_("token ends with"), max_length=8, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} (…{self.hint})"

    def issue(self) -> str:
        """Give the token a new key; returns it (the only time it can be read)."""
        key = PREFIX + secrets.token_urlsafe(32)
        self.key_hash, self.hint = digest(key), key[-4:]
        return key
