"""The snippets a campaign pastes into its website: a plain form and the widget.

URLs in the snippets are absolute, built from ``CLICKTOCALL_PUBLIC_URL`` (else from the
request the admin page was asked with), because the snippets live on other sites.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urljoin

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.templatetags.static import PrefixNode
from django.urls import reverse

from .conf import conf

#: Where a form sends the visitor afterwards until the campaign writes its own page there.
THANKS_PLACEHOLDER = "https://www.example.org/thank-you"
WIDGET_SCRIPT = "clicktocall/widget.js"
#: Variables the snippets ask the visitor for in fields of their own.
FORM_FIELDS = frozenset({"name", "zip", "email", "phone"})


@dataclass(frozen=True)
class Snippets:
    """The embed code for one campaign line."""

    endpoint: str
    script_url: str
    form: str
    widget: str
    variables: list[str] = field(default_factory=list)


def base_url(request: HttpRequest | None = None) -> str:
    """The public origin of this service: ``CLICKTOCALL_PUBLIC_URL``, else the request's."""
    if conf.PUBLIC_URL:
        return conf.PUBLIC_URL
    if request is not None:
        return request.build_absolute_uri("/").rstrip("/")
    return ""


def absolute(url: str, request: HttpRequest | None = None) -> str:
    if url.startswith(("http://", "https://", "//")):
        return url
    return base_url(request) + url


def endpoint_url(request: HttpRequest | None = None) -> str:
    """The absolute URL of ``/outgoing/`` (with the slash, as pages in the wild write it)."""
    path = reverse("clicktocall:outgoing")
    return absolute(path if path.endswith("/") else path + "/", request)


def widget_script_url(request: HttpRequest | None = None) -> str:
    """The widget's stable URL, without the hashed name a manifest storage gives a file.

    The snippet stays on campaigns' sites for months: a hashed copy disappears with the
    next release that changes the script, while the plain name always serves the current one.
    """
    return absolute(urljoin(PrefixNode.handle_simple("STATIC_URL"), WIDGET_SCRIPT), request)


def snippets(
    campaign_line: str,
    request: HttpRequest | None = None,
    thanks_url: str = THANKS_PLACEHOLDER,
    variables: Mapping[str, str | None] | None = None,
    *,
    by_location: bool = False,
) -> Snippets:
    """The plain form and the widget snippet for the line numbered ``campaign_line``.

    ``variables`` (name: default) are the ones its script speaks: each one the visitor is
    not asked for becomes a hidden field of the form and a key of the widget's ``data-data``,
    set to its default for the campaign to change. ``by_location``: the line finds targets
    from the visitor's ZIP code, which the snippets then ask for and explain.
    """
    hidden = {name: default or "" for name, default in (variables or {}).items() if name not in FORM_FIELDS}
    context = {
        "by_location": by_location,
        "campaign_line": campaign_line,
        "endpoint": endpoint_url(request),
        "script_url": widget_script_url(request),
        "thanks_url": thanks_url,
        "hidden": hidden,
        "data_json": json.dumps(hidden, ensure_ascii=False) if hidden else "",
    }
    form = render_to_string("clicktocall/embed/form.html", context).strip() + "\n"
    fallback = textwrap.indent(form, "  ")
    widget = render_to_string("clicktocall/embed/widget.html", {**context, "form": fallback}).strip() + "\n"
    return Snippets(
        endpoint=context["endpoint"], script_url=context["script_url"], form=form, widget=widget, variables=list(hidden)
    )
