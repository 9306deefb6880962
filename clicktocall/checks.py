"""System checks: each names the setting that is wrong and how to fix it."""

from __future__ import annotations

import sys
from pathlib import Path

import phonenumbers
from django.core import checks
from django.utils.module_loading import import_string

from .conf import BACKEND_ALIASES, conf


def settings_from_environment() -> bool:
    """Whether Django runs on this service's own settings module, which reads every setting
    from an environment variable of the same name (not on a project the app is installed into)."""
    from django.conf import settings

    module = sys.modules.get(getattr(settings, "SETTINGS_MODULE", None) or "")
    own = Path(__file__).resolve().parent.parent / "project" / "settings.py"
    return module is not None and Path(getattr(module, "__file__", None) or "").resolve() == own


@checks.register()
def check_settings(app_configs=None, **kwargs):
    errors = []
    # A setting that is not a string at all is reported once, by E025 (check_installation).
    backend_named = isinstance(conf._get("CLICKTOCALL_TELEPHONY_BACKEND"), str)
    if backend_named:
        try:
            import_string(conf.TELEPHONY_BACKEND)
        except ImportError:
            errors.append(
                checks.Error(
                    f"CLICKTOCALL_TELEPHONY_BACKEND names {conf.TELEPHONY_BACKEND!r}, which cannot be imported.",
                    hint=f"Use one of {', '.join(BACKEND_ALIASES)} or a dotted path to a BaseTelephonyBackend "
                    "subclass.",
                    id="clicktocall.E001",
                )
            )
    if backend_named and conf.TELEPHONY_BACKEND == BACKEND_ALIASES["twilio"]:
        for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"):
            if not getattr(conf, name):
                errors.append(
                    checks.Error(
                        f"{name} is not set but the Twilio telephony backend is configured.",
                        hint=f"Set the {name} environment variable (from the Twilio console)."
                        if settings_from_environment()
                        else f"Set {name} in your Django settings (from the Twilio console); keep its value out of "
                        "version control, e.g. read it from the environment or a secrets store.",
                        id="clicktocall.E002",
                    )
                )
        if not conf.PUBLIC_URL.startswith("https://"):
            errors.append(
                checks.Error(
                    "CLICKTOCALL_PUBLIC_URL must be the https:// base URL Twilio reaches this site at.",
                    hint=(
                        "Set CLICKTOCALL_PUBLIC_URL, e.g. https://calls.example.org; "
                        "webhook signatures are checked against it."
                    ),
                    id="clicktocall.E003",
                )
            )
    region = conf._get("CLICKTOCALL_DEFAULT_REGION")
    if isinstance(region, str) and conf.DEFAULT_REGION not in phonenumbers.SUPPORTED_REGIONS:
        errors.append(
            checks.Error(
                f"CLICKTOCALL_DEFAULT_REGION {region!r} is not a country phone numbers are known for.",
                hint="Use an ISO 3166 two-letter code such as 'US', 'CA' or 'GB'.",
                id="clicktocall.E004",
            )
        )
    try:
        if conf.TRUSTED_PROXIES < 0:
            raise ValueError
    except (TypeError, ValueError):
        errors.append(
            checks.Error(
                "CLICKTOCALL_TRUSTED_PROXIES must be a whole number, 0 or more.",
                hint="Set it to the number of reverse proxies in front of the site (0 when none).",
                id="clicktocall.E005",
            )
        )
    redirect_hosts = conf._get("CLICKTOCALL_REDIRECT_HOSTS")  # as set: conf.REDIRECT_HOSTS makes a list of it
    if (
        not isinstance(redirect_hosts, (list, tuple))
        or not all(isinstance(host, str) for host in redirect_hosts)
        or "*" in redirect_hosts
    ):
        errors.append(
            checks.Error(
                f"CLICKTOCALL_REDIRECT_HOSTS must be a list of host names, without '*', not {redirect_hosts!r}.",
                hint="List the hosts revmsghtml may redirect to, e.g. ['www.example.org', '.example.net'], even for "
                "one host; '*' would make /outgoing an open redirect.",
                id="clicktocall.E006",
            )
        )
    else:
        from .hosts import allowed_host_problem

        for host in redirect_hosts:
            problem = allowed_host_problem(host.strip()) if host != "*" else None
            if problem:
                errors.append(
                    checks.Error(
                        f"CLICKTOCALL_REDIRECT_HOSTS: {problem}.",
                        hint="List the hosts of the campaign's own pages, e.g. 'www.example.org' or '.example.org'; "
                        "a host that is not allowed is never redirected to.",
                        id="clicktocall.E007",
                    )
                )
    return errors


@checks.register()
def check_limits(app_configs=None, **kwargs):
    """The abuse limits: rates that parse, whole numbers, real country codes."""
    from .limits import parse_rates

    errors = []
    for name, value in (("CLICKTOCALL_IP_RATE", conf.IP_RATE), ("CLICKTOCALL_PHONE_RATE", conf.PHONE_RATE)):
        try:
            parse_rates(value)
        except ValueError as exc:
            errors.append(
                checks.Error(
                    f"{name} is {value!r}: {exc}.",
                    hint="Write a count per period, e.g. 5/m, 10/h, 20/d or 3/30s; several comma-separated; "
                    "empty or off for no limit.",
                    id="clicktocall.E101",
                )
            )
    try:
        unknown = [c for c in conf.ALLOWED_COUNTRIES if c not in phonenumbers.SUPPORTED_REGIONS]
    except TypeError:
        unknown = ["?"]
    if unknown:
        errors.append(
            checks.Error(
                f"CLICKTOCALL_ALLOWED_COUNTRIES has unknown country codes: {', '.join(unknown)}.",
                hint="Use two-letter ISO codes such as US, CA, GB.",
                id="clicktocall.E102",
            )
        )
    for name in ("COOLDOWN_SECONDS", "DAILY_CAP", "BLOCKLIST_CACHE_SECONDS", "REFUSED_RECORDS_PER_HOUR"):
        try:
            ok = getattr(conf, name) >= 0
        except (TypeError, ValueError):
            ok = False
        if not ok:
            errors.append(checks.Error(f"CLICKTOCALL_{name} must be a whole number, 0 or more.", id="clicktocall.E103"))
    try:
        prefix_ok = 1 <= conf.IPV6_PREFIX <= 128
    except (TypeError, ValueError):
        prefix_ok = False
    if not prefix_ok:
        errors.append(
            checks.Error(
                "CLICKTOCALL_IPV6_PREFIX must be a prefix length from 1 to 128, "
                f"not {conf._get('CLICKTOCALL_IPV6_PREFIX')!r}.",
                hint="Set it to 64 (a subscriber's or a local network's block): IPv6 clients are counted by network.",
                id="clicktocall.E104",
            )
        )
    errors.extend(_check_limit_store())
    return errors


def _check_limit_store():
    from django.db import connections, router

    from .limits import STORES, store_name
    from .models import LimitCounter

    if conf.LIMIT_STORE not in {"auto", *STORES}:
        return [
            checks.Error(
                f"CLICKTOCALL_LIMIT_STORE is {conf.LIMIT_STORE!r}; it must be 'auto', 'cache' or 'database'.",
                hint="Leave it at 'auto': the cache when it is Redis or Memcached, else the database.",
                id="clicktocall.E105",
            )
        ]
    if store_name() == "database":
        vendor = connections[router.db_for_write(LimitCounter)].vendor
        if vendor not in ("postgresql", "sqlite"):
            return [
                checks.Error(
                    f"Cooldowns and rate counters are kept in the database, and {vendor} is not supported for them.",
                    hint="Use PostgreSQL or SQLite, or set REDIS_URL (CACHES) so that Redis keeps them.",
                    id="clicktocall.E106",
                )
            ]
    return []


@checks.register(deploy=True)
def check_limits_shared(app_configs=None, **kwargs):
    """In production, limits must be shared by every server process."""
    from .limits import cache_backend, cache_is_shared, store_name

    if store_name() == "cache" and not cache_is_shared():
        backend = cache_backend() or "missing"
        return [
            checks.Error(
                f"CLICKTOCALL_LIMIT_STORE is 'cache' but CACHES[{conf.CACHE!r}] is {backend}, which is kept per "
                "process or changed by read-then-write: each server process would hold its own cooldowns and "
                "rates, and simultaneous requests would each place a call.",
                hint="Set CLICKTOCALL_LIMIT_STORE = 'auto' (the database keeps the limits), or point the cache at "
                "Redis (REDIS_URL).",
                id="clicktocall.E107",
            )
        ]
    if cache_backend().startswith(PER_PROCESS_CACHES):
        return [
            checks.Error(
                f"CACHES[{conf.CACHE!r}] is {cache_backend()}, which each server process keeps for itself: a number "
                "or address blocked in the admin, or a line switched off, would go on being served by the other "
                "processes until their copies expire.",
                hint="Point the cache at Redis (REDIS_URL), or at the database "
                "(DJANGO_CACHE_URL=db://clicktocall_cache, then manage.py createcachetable) in this project; "
                "in a host project, set CACHES to a shared backend.",
                id="clicktocall.E108",
            )
        ]
    return []


PER_PROCESS_CACHES = ("django.core.cache.backends.locmem.", "django.core.cache.backends.dummy.")


# Installation: what a host project must add, and the type of every setting.

CORS_MIDDLEWARE = "corsheaders.middleware.CorsMiddleware"
RECOMMENDED_CORS_REGEX = r"^/outgoing/?$"
REQUIRED_APPS = [
    ("rest_framework", "/outgoing is a REST framework view", "clicktocall.E020"),
    ("corsheaders", "/outgoing answers other sites' pages through django-cors-headers", "clicktocall.E021"),
]


def _outgoing_paths() -> list[str]:
    from django.urls import NoReverseMatch, reverse

    try:
        path = reverse("clicktocall:outgoing").rstrip("/")
    except NoReverseMatch:
        path = "/outgoing"
    return [path, path + "/"]


def _reversible(name: str, **kwargs) -> bool:
    from django.urls import NoReverseMatch, reverse

    try:
        reverse(f"clicktocall:{name}", kwargs=kwargs)
    except NoReverseMatch:
        return False
    return True


URLS_HINT = (
    'Add path("", include("clicktocall.urls")) to the root URLconf, or mount the parts '
    "(clicktocall.urls.outgoing, .webhooks, .docs) together in the 'clicktocall' namespace: see "
    "'Installing into your project' in docs/operations.md."
)


@checks.register(checks.Tags.urls)
def check_urls(app_configs=None, **kwargs):
    """``/outgoing`` and, with Twilio, the webhooks are mounted in the ``clicktocall`` namespace."""
    errors = []
    if not _reversible("outgoing"):
        errors.append(
            checks.Warning(
                "The URL 'clicktocall:outgoing' is not installed, so pages cannot reach /outgoing.",
                hint=URLS_HINT,
                id="clicktocall.W023",
            )
        )
    backend = conf._get("CLICKTOCALL_TELEPHONY_BACKEND")
    if backend in ("twilio", BACKEND_ALIASES["twilio"]) and not _reversible("twilio-status", token="t"):
        errors.append(
            checks.Error(
                "The URL 'clicktocall:twilio-status' is not installed, so Twilio cannot report how calls went.",
                hint=URLS_HINT,
                id="clicktocall.E028",
            )
        )
    return errors


@checks.register()
def check_installation(app_configs=None, **kwargs):
    """The apps, middleware and CORS settings ``/outgoing`` needs, each named with its fix."""
    import re

    from django.apps import apps
    from django.conf import settings

    errors = []
    for app, why, check_id in REQUIRED_APPS:
        if not apps.is_installed(app):
            errors.append(
                checks.Error(
                    f"'{app}' is not in INSTALLED_APPS; {why}.",
                    hint=f"Add '{app}' to INSTALLED_APPS (before 'clicktocall').",
                    id=check_id,
                )
            )
    if CORS_MIDDLEWARE not in (getattr(settings, "MIDDLEWARE", None) or []):
        errors.append(
            checks.Error(
                f"'{CORS_MIDDLEWARE}' is not in MIDDLEWARE, so pages on other sites cannot read /outgoing's answers.",
                hint=f"Add '{CORS_MIDDLEWARE}' to MIDDLEWARE, above 'django.middleware.common.CommonMiddleware'.",
                id="clicktocall.E022",
            )
        )
    regex = getattr(settings, "CORS_URLS_REGEX", r"^.*$")
    try:
        pattern = re.compile(regex)
    except (re.error, TypeError):
        errors.append(
            checks.Error(
                f"CORS_URLS_REGEX is not a valid regular expression: {regex!r}.",
                hint=f'Set CORS_URLS_REGEX = r"{RECOMMENDED_CORS_REGEX}".',
                id="clicktocall.E023",
            )
        )
    else:
        paths = _outgoing_paths()
        missing = [p for p in paths if not pattern.match(p)]
        if missing:
            errors.append(
                checks.Error(
                    f"CORS_URLS_REGEX {regex!r} does not match {' and '.join(missing)}, so browsers block "
                    "cross-origin requests to /outgoing.",
                    hint=f'Set CORS_URLS_REGEX = r"^{re.escape(paths[0])}/?$" (or add that path to it).',
                    id="clicktocall.E024",
                )
            )
        elif pattern.match("/admin/"):
            errors.append(
                checks.Warning(
                    f"CORS_URLS_REGEX {regex!r} gives CORS headers to every route, not only /outgoing.",
                    hint=f'Set CORS_URLS_REGEX = r"^{re.escape(paths[0])}/?$".',
                    id="clicktocall.W020",
                )
            )
    if not (
        getattr(settings, "CORS_ALLOW_ALL_ORIGINS", False)
        or getattr(settings, "CORS_ALLOWED_ORIGINS", None)
        or getattr(settings, "CORS_ALLOWED_ORIGIN_REGEXES", None)
    ):
        errors.append(
            checks.Warning(
                "No origin may call /outgoing cross-origin: CORS_ALLOW_ALL_ORIGINS is off and "
                "CORS_ALLOWED_ORIGINS and CORS_ALLOWED_ORIGIN_REGEXES are empty.",
                hint="Set CORS_ALLOW_ALL_ORIGINS = True, or list the campaign sites in CORS_ALLOWED_ORIGINS.",
                id="clicktocall.W021",
            )
        )
    errors.extend(_check_types())
    return errors


def _check_types():
    from urllib.parse import urlsplit

    errors = []
    for name in (
        "CLICKTOCALL_TELEPHONY_BACKEND",
        "CLICKTOCALL_PUBLIC_URL",
        "CLICKTOCALL_DEFAULT_REGION",
        "TWILIO_ACCOUNT_SID",
        "TWILIO_AUTH_TOKEN",
        "TWILIO_API_BASE_URL",
    ):
        value = conf._get(name)
        if not isinstance(value, str):
            errors.append(
                checks.Error(
                    f"{name} must be a string, not {type(value).__name__} ({value!r}).",
                    hint=f"Set {name} to a string; docs/operations.md lists every setting with its default.",
                    id="clicktocall.E025",
                )
            )
    public_url = conf._get("CLICKTOCALL_PUBLIC_URL")
    if isinstance(public_url, str) and public_url:
        parts = urlsplit(public_url)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
            errors.append(
                checks.Error(
                    f"CLICKTOCALL_PUBLIC_URL {public_url!r} is not an absolute http(s) URL.",
                    hint="Set it to the site's public origin, e.g. 'https://calls.example.org' (no query string).",
                    id="clicktocall.E026",
                )
            )
    elif isinstance(public_url, str):
        errors.append(
            checks.Warning(
                "CLICKTOCALL_PUBLIC_URL is empty: embed snippets fall back to the admin's own address, and the "
                "telephony provider cannot be told where to send call events.",
                hint="Set CLICKTOCALL_PUBLIC_URL to the site's public origin, e.g. 'https://calls.example.org'.",
                id="clicktocall.W022",
            )
        )
    timeout = conf._get("CLICKTOCALL_RING_TIMEOUT")
    if isinstance(timeout, bool) or not isinstance(timeout, int) or not 5 <= timeout <= 600:
        errors.append(
            checks.Error(
                f"CLICKTOCALL_RING_TIMEOUT must be a whole number of seconds from 5 to 600, not {timeout!r}.",
                hint="Set CLICKTOCALL_RING_TIMEOUT = 30 (how long the visitor's phone rings).",
                id="clicktocall.E027",
            )
        )
    return errors


@checks.register()
def check_placement(app_configs=None, **kwargs):
    """``CLICKTOCALL_PLACEMENT`` and the task backend that queued placement needs."""
    from django.conf import settings

    errors = []
    if conf.PLACEMENT not in {"direct", "queued"}:
        errors.append(
            checks.Error(
                f"CLICKTOCALL_PLACEMENT is {conf.PLACEMENT!r}; it must be 'direct' or 'queued'.",
                id="clicktocall.E050",
            )
        )
    numbers = ("PLACEMENT_RETRIES", "PLACEMENT_BACKOFF", "PROVIDER_CPS", "MAX_QUEUE_WAIT")
    for name in (f"CLICKTOCALL_{n}" for n in numbers):
        try:
            value = getattr(conf, name.removeprefix("CLICKTOCALL_"))
        except (TypeError, ValueError):
            value = None
        if value is None:
            errors.append(checks.Error(f"{name} must be a number, 0 or more.", id="clicktocall.E051"))
    backend = settings.TASKS.get("default", {}).get("BACKEND", "") if isinstance(settings.TASKS, dict) else ""
    if conf.PLACEMENT == "queued" and backend.endswith("ImmediateBackend") and not settings.DEBUG:
        errors.append(
            checks.Warning(
                "CLICKTOCALL_PLACEMENT is 'queued' but tasks run immediately, inside the request.",
                hint="Set DJANGO_TASKS_BACKEND=database and run `manage.py db_worker` next to the web processes.",
                id="clicktocall.W050",
            )
        )
    return errors
