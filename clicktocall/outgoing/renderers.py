"""Renderers for ``/outgoing``: JSON, JSONP (callback validated) and an HTML page."""

from __future__ import annotations

import json

from rest_framework.renderers import BaseRenderer, TemplateHTMLRenderer
from rest_framework.renderers import JSONRenderer as DRFJSONRenderer

from .params import is_callback


class JSONRenderer(DRFJSONRenderer):
    """Compact JSON with non-ASCII escaped, so no charset question can arise."""

    ensure_ascii = True
    compact = True


class JSONPRenderer(BaseRenderer):
    """``/**/callback({...});`` for ``<script>`` requests.

    The callback name comes validated from the view (``renderer_context['callback']``);
    the renderer checks it once more and refuses to echo anything else.
    """

    media_type = "application/javascript"
    format = "jsonp"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        callback = (renderer_context or {}).get("callback", "")
        if not is_callback(callback):
            raise ValueError("refusing to render an invalid JSONP callback")
        payload = json.dumps(data, ensure_ascii=True, separators=(",", ":"))
        return f"/**/{callback}({payload});".encode()


class HTMLRenderer(TemplateHTMLRenderer):
    """A small result page for a browser that posted a form without a usable revmsghtml."""

    format = "html"
    template_name = "clicktocall/result.html"

    def get_template_context(self, data, renderer_context):
        context = dict(data)
        context.update((renderer_context or {}).get("html_context", {}))
        return context
