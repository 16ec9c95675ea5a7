"""English and Simplified Chinese: switching, browser preference, a complete translation."""

from pathlib import Path

import polib
import pytest
from django.urls import reverse

from crm.choices import Role

LOCALE = Path(__file__).resolve().parents[2] / "locale" / "zh_Hans" / "LC_MESSAGES"


def test_language_switch_changes_the_pages(client, make_user):
    client.force_login(make_user(Role.ADMINISTRATOR))
    assert "Sign out" in client.get(reverse("home")).content.decode()
    response = client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    assert response.status_code == 302
    html = client.get(reverse("home")).content.decode()
    assert "退出登录" in html
    assert 'lang="zh-hans"' in html
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert "Sign out" in client.get(reverse("home")).content.decode()


def test_browser_language_is_honoured(client, db):
    html = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").content.decode()
    assert "登录" in html


@pytest.mark.parametrize("name", ["django.po"])
def test_every_string_is_translated(name):
    catalogue = polib.pofile(str(LOCALE / name))
    untranslated = [e.msgid for e in catalogue.untranslated_entries()]
    fuzzy = [e.msgid for e in catalogue.fuzzy_entries()]
    assert untranslated == []
    assert fuzzy == []


def test_compiled_catalogue_matches_the_source():
    # Keyed by context too: "Active" and "Failed" exist with and without one.
    source = {
        (e.msgctxt, e.msgid): e.msgstr
        for e in polib.pofile(str(LOCALE / "django.po")).translated_entries()
    }
    compiled = {
        (e.msgctxt, e.msgid): e.msgstr for e in polib.mofile(str(LOCALE / "django.mo")) if e.msgid
    }
    assert compiled == source


def test_open_the_queue_says_what_the_english_says():
    # The link on the service-request panel opens the service queue, not an approval queue.
    from django.utils import translation

    with translation.override("zh-hans"):
        assert translation.gettext("Open the queue") == "打开队列"
