"""The snippets campaigns paste into their sites keep working after the service is upgraded."""

from __future__ import annotations

from django.contrib.staticfiles.storage import StaticFilesStorage

from clicktocall import embed


class HashingStorage(StaticFilesStorage):
    """Stands in for a manifest storage: every URL names one release's copy of the file."""

    def url(self, name: str | None) -> str:
        return super().url(name).replace(".js", ".7efbe406e792.js")


def test_the_widget_snippet_names_the_script_by_its_stable_url(settings):
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": f"{__name__}.HashingStorage"}}
    settings.CLICKTOCALL_PUBLIC_URL = "https://calls.example.org"
    snippets = embed.snippets("+18559299898")
    url = "https://calls.example.org/static/clicktocall/widget.js"
    assert snippets.script_url == url and f'<script src="{url}" async></script>' in snippets.widget
    assert ".7efbe406e792." not in snippets.widget  # a later release removes that copy from the server


def test_the_stable_url_follows_an_absolute_static_url(settings):
    settings.STATIC_URL = "https://cdn.example.net/assets/"
    assert embed.widget_script_url() == "https://cdn.example.net/assets/clicktocall/widget.js"


def test_a_line_that_calls_members_of_congress_asks_for_the_zip_code():
    plain = embed.snippets("+18559299898")
    members = embed.snippets("+18559299898", by_location=True)
    assert 'data-zip="members"' in members.widget and 'data-zip="members"' not in plain.widget
    assert 'pattern="[0-9]{5}(-?[0-9]{4})?"' in members.form and "pattern" not in plain.form.split("ctc-zip")[1]
    assert "your own members of Congress" in members.form and "ZIP code (optional)" in plain.form
