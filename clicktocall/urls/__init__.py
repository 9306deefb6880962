"""URLs of the app, all in the ``clicktocall`` namespace.

Each part is a module of its own, so that a host project can mount it where it wants:

- :mod:`clicktocall.urls.outgoing`: ``outgoing`` (``/outgoing`` and ``/outgoing/``), the public endpoint;
- :mod:`clicktocall.urls.webhooks`: ``twilio/…``, what the telephony provider calls back;
- :mod:`clicktocall.urls.docs`: the human-readable page and ``schema/``, the OpenAPI description;
- :mod:`clicktocall.urls.api`: ``lines/…`` and ``attempts/…``, the read-only results API.

This module includes them as a dedicated site has them (``/outgoing``, ``/clicktocall/twilio/…``,
``/api/``, ``/api/schema/`` and ``/api/v1/…``)::

    path("", include("clicktocall.urls")),

A host project that has its own ``/api/`` mounts the parts in the namespace itself::

    path("", include(([
        path("", include("clicktocall.urls.outgoing")),
        path("clicktocall/", include("clicktocall.urls.webhooks")),
        path("clicktocall/api/", include("clicktocall.urls.docs")),
        path("clicktocall/api/v1/", include("clicktocall.urls.api")),
    ], "clicktocall"))),
"""

from django.urls import include, path

from . import api, docs, outgoing, webhooks

app_name = "clicktocall"

urlpatterns = [
    path("", include(outgoing)),
    path("api/", include(docs)),
    path("api/v1/", include(api)),
    path("clicktocall/", include(webhooks)),
]
