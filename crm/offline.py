"""The installable web app: its manifest and its service worker (static/js/sw.js, ours).

The service worker is served from the site's root (`/sw.js`) so that its scope covers every page
(a worker's scope is the folder it is served from; `Service-Worker-Allowed: /` says so once more
for a proxy that moves it). Its text is static/js/sw.js with two values put in: the cache
version (a hash of the worker and of the files it keeps, so a deploy that changes one of them
installs a new worker that drops the old caches) and the list of those files.

The worker keeps what the account manager needs on the road with no network: the site's own CSS
and scripts, and the pages the agenda asks it to keep (today's and tomorrow's agenda, the
customer pages of those shops and their visit forms: `visits.offline.offline_urls`). Visits
logged with no network wait in the phone's IndexedDB (static/js/offline.js) and are sent once,
in order, when it returns; the server stores a draft once (`Visit.client_id`).

Both views are public (the sign-in page registers the worker too) and carry no user data.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache

from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

# What every page needs, kept by the worker when it installs (the pages themselves are kept
# when the agenda asks for them). Chart.js is left out: no page of the offline route draws one.
SHELL_FILES = (
    "vendor/bootstrap/bootstrap.min.css",
    "vendor/bootstrap-icons/bootstrap-icons.min.css",
    "vendor/bootstrap-icons/fonts/bootstrap-icons.woff2",
    "vendor/bootstrap-icons/fonts/bootstrap-icons.woff",
    "css/crm.css",
    "vendor/bootstrap/bootstrap.bundle.min.js",
    "vendor/htmx/htmx.min.js",
    "js/crm.js",
    "js/offline.js",
    "js/visit_form.js",
    "img/favicon.svg",
    "img/icon-192.png",
    "img/icon-512.png",
)
WORKER_FILE = "js/sw.js"


def _read(path: str) -> bytes:
    found = finders.find(path)
    if not found:
        raise FileNotFoundError(path)
    with open(found, "rb") as handle:
        return handle.read()


@lru_cache(maxsize=1)
def _worker_source() -> str:
    """The worker's text with its version and files put in (read once per process: the files
    change only with a deploy, which starts new processes)."""
    source = _read(WORKER_FILE)
    digest = hashlib.sha256(source)
    for path in SHELL_FILES:
        digest.update(_read(path))
    files = [static(path) for path in SHELL_FILES]
    return (
        source.decode()
        .replace('"__VERSION__"', json.dumps(digest.hexdigest()[:16]))
        .replace("[] /* __SHELL__ */", json.dumps(files))
    )


@require_GET
@never_cache
def service_worker(request: HttpRequest) -> HttpResponse:
    """The service worker, from the root so that it controls every page. never_cache: the
    browser checks for a new worker on each visit (it would anyway after 24 h)."""
    response = HttpResponse(_worker_source(), content_type="text/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = "/"
    return response


@require_GET
def manifest(request: HttpRequest) -> JsonResponse:
    """The web app manifest: the product's name in the reader's language, its icons, and the
    agenda as the page it opens on (the account manager's day starts there)."""
    data = {
        "name": _("Retail CRM"),
        "short_name": _("CRM"),
        "description": _("Customers, visits and orders of a tobacco retail distributor."),
        "lang": request.LANGUAGE_CODE,
        "id": "/",
        "start_url": reverse("visits:agenda"),
        "scope": "/",
        "display": "standalone",
        "background_color": "#f8f9fa",
        "theme_color": "#212529",
        "icons": [
            {"src": static("img/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": static("img/icon-512.png"), "sizes": "512x512", "type": "image/png"},
            {
                "src": static("img/icon-512.png"),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            },
            {"src": static("img/favicon.svg"), "sizes": "any", "type": "image/svg+xml"},
        ],
    }
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False})
    response["Content-Type"] = "application/manifest+json"
    return response
