"""The installable web app: the manifest and the service worker (crm/offline.py), and the
offline route's piece of every page (templates/crm/inc/offline.html)."""

import json

from django.contrib.staticfiles import finders
from django.templatetags.static import static
from django.urls import reverse

from crm.offline import SHELL_FILES


def test_the_service_worker_is_served_from_the_root_for_every_page(client, db):
    response = client.get(reverse("service_worker"))

    assert reverse("service_worker") == "/sw.js"  # its scope: the whole site
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Service-Worker-Allowed"] == "/"
    assert "no-cache" in response["Cache-Control"]
    source = response.content.decode()
    # its version and the files it keeps are put in; every one of them exists
    assert "__VERSION__" not in source and "__SHELL__" not in source
    shell = json.loads(source.split("var SHELL = ", 1)[1].split(";", 1)[0])
    assert shell == [static(path) for path in SHELL_FILES]
    assert all(finders.find(path) for path in SHELL_FILES)
    # the policy lets this origin's worker and manifest in
    csp = response["Content-Security-Policy"]
    assert "worker-src 'self'" in csp and "manifest-src 'self'" in csp


def test_the_manifest_names_the_product_in_the_readers_language(client, db):
    english = client.get(reverse("manifest"), HTTP_ACCEPT_LANGUAGE="en")
    chinese = client.get(reverse("manifest"), HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert english["Content-Type"] == "application/manifest+json"
    data = english.json()
    assert data["name"] == "Retail CRM"
    assert data["start_url"] == reverse("visits:agenda")
    assert data["scope"] == "/" and data["display"] == "standalone"
    sizes = {icon["sizes"] for icon in data["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in data["icons"]:
        path = icon["src"].removeprefix(static(""))
        assert finders.find(path), icon["src"]
    assert chinese.json()["name"] != "Retail CRM"
    assert chinese.json()["lang"] == "zh-hans"


def test_every_page_links_the_manifest_and_loads_the_offline_script(client, customer_world):
    client.force_login(customer_world["am_th"])

    html = client.get(reverse("home")).content.decode()

    assert f'<link rel="manifest" href="{reverse("manifest")}"' in html
    assert f'data-sw="{reverse("service_worker")}"' in html
    assert f'data-user="{customer_world["am_th"].pk}"' in html
    assert 'id="offline-text"' in html and 'data-testid="outbox"' in html
    # the sign-in page too (no user: the outbox waits for one)
    client.logout()
    html = client.get(reverse("login")).content.decode()
    assert 'data-user=""' in html
