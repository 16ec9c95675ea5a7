"""Texts the system stores for later readers (crm.stored_text): written as a key and its
parameters in whatever language the writer used, read in the reader's language — on pages,
in the API (Accept-Language) and on the home panels; typed text stays as typed.

customer_world: am_th owns c_th (天河一号店) in TH; sup_th supervises TH."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from rest_framework.test import APIClient

from crm import jobs, stored_text
from crm.choices import AuditSource, RunStatus, RunTrigger
from crm.models import AuditEntry, Notification
from crm.services import Actor, notify
from crm.stored_text import items, label, nested, recognise, render, text
from grading import services as grading_services
from grading.models import GradingRun
from services import services as request_services
from services.models import ServiceRequest
from tests.services.factories import hours_ago, raise_request

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}


@pytest.fixture(autouse=True)
def _english_after():
    """The locale middleware leaves a Chinese request's language active in the thread: set it
    back, so the tests after these read English."""
    with translation.override("en"):
        yield


EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def due_of(request: ServiceRequest) -> str:
    return timezone.localtime(request.due_at).strftime("%Y-%m-%d %H:%M")


# --- the required case: written in English, read in Chinese --------------------------------


def test_a_notification_made_by_an_english_actor_reads_in_chinese_for_a_chinese_reader(
    customer_world, client
):
    # given: the supervisor, working in English, raises a supply request the AM is given
    with translation.override("en"):
        request = raise_request(
            customer_world["c_th"], customer_world["sup_th"], request_type="supply"
        )
    notice = Notification.objects.get(user=customer_world["am_th"])
    chinese = f"天河一号店 的 {request.number} 已分配给您：货源，到期时间 {due_of(request)}。"
    english = f"{request.number} for 天河一号店 was given to you: Supply, due {due_of(request)}."

    # then: the page, in the reader's language
    client.force_login(customer_world["am_th"])
    page = client.get(reverse("notifications"), **ZH).content.decode()
    assert chinese in page
    assert "was given to you" not in page
    assert english in client.get(reverse("notifications"), **EN).content.decode()

    # and the API, in the request's language
    api = APIClient()
    api.force_authenticate(customer_world["am_th"])
    response = api.get(reverse("api:notification_list"), **ZH)
    assert response.status_code == 200
    [item] = response.json()["results"]
    assert item == {
        "id": notice.pk,
        "message": chinese,
        "link": reverse("services:request_detail", args=[request.pk]),
        "created_at": item["created_at"],
        "read_at": None,
    }
    assert api.get(reverse("api:notification_list"), **EN).json()["results"][0]["message"] == (
        english
    )
    # The plain column keeps the English rendering (the admin site, a key ever dropped).
    assert notice.message == english
    assert (notice.message_key, notice.message_params["type"]) == (
        "services.request.assigned",
        {"$label": "services.choices.RequestType", "value": "supply"},
    )


def test_the_notification_api_lists_only_the_callers_own(customer_world, django_assert_num_queries):
    for n in range(3):
        notify(user=customer_world["am_th"], message=f"typed {n}")
    notify(user=customer_world["am_th2"], message="someone else's")
    api = APIClient()
    api.force_authenticate(customer_world["am_th"])

    with django_assert_num_queries(2):  # count, page
        results = api.get(reverse("api:notification_list")).json()["results"]

    assert [r["message"] for r in results] == ["typed 2", "typed 1", "typed 0"]


def test_typed_text_is_shown_as_typed_in_every_language(customer_world):
    notice = notify(user=customer_world["am_th"], message="Please call 王先生 back")
    with translation.override("zh-hans"):
        assert notice.text == "Please call 王先生 back"
    assert notice.message_key == ""


# --- rendering -----------------------------------------------------------------------------


def test_labels_nested_texts_lists_and_plurals_render_in_the_active_language():
    parts = items(
        [
            nested(text("services.care_due.part", kind=label(k, "family"), n=2))
            for k in ["services.choices.ActivityKind"]
        ]
    )
    stored = text("services.care_due", n=2, parts=parts)
    with translation.override("en"):
        assert str(stored) == "2 care services are due this week (Family service: 2)."
        assert render("services.care_due", {"n": 1, "parts": "x"}) == (
            "1 care service is due this week (x)."
        )
    with translation.override("zh-hans"):
        assert str(stored) == "本周有 2 项关怀服务待完成（亲情服务：2）。"
    assert stored.english() == "2 care services are due this week (Family service: 2)."


def test_an_import_warning_names_a_few_codes_and_how_many_more():
    more = nested(text("customers.import.and_more", n=3))
    codes = nested(text("customers.import.codes_and_more", codes="A, B", more=more))
    warning = text("customers.import.same_phone_customers", codes=codes)
    with translation.override("zh-hans"):
        assert str(warning) == "电话与客户 A, B 及另外 3 个 相同。"
    assert warning.english() == "Same phone as customer(s) A, B and 3 more."


def test_a_label_from_outside_the_project_or_unknown_is_shown_as_stored():
    with translation.override("en"):
        shown = render("services.request.overdue_since", {"due": label("os.system", "x")})
    assert shown == "Overdue since x"
    assert render("nope", {}) == ""
    assert stored_text.shown("nope", {}, "as stored") == "as stored"
    with pytest.raises(KeyError):
        text("not.in.the.catalogue")


def test_recognise_reads_back_english_and_chinese_renderings():
    templates = {
        "services.request.assigned": (
            "%(number)s for %(customer)s was given to you: %(type)s, due %(due)s."
        )
    }
    labels = {"type": "services.choices.RequestType"}
    english = "SR-1 for 天河一号店 was given to you: Delivery, due 2026-03-02 09:30."
    chinese = "天河一号店 的 SR-1 已分配给您：送货，到期时间 2026-03-02 09:30。"
    expected = (
        "services.request.assigned",
        {
            "number": "SR-1",
            "customer": "天河一号店",
            "type": {"$label": "services.choices.RequestType", "value": "delivery"},
            "due": "2026-03-02 09:30",
        },
    )
    assert recognise(english, templates, labels=labels) == expected
    assert recognise(chinese, templates, labels=labels) == expected
    assert recognise("Call me", templates) is None


# --- each kind of stored text --------------------------------------------------------------


def test_escalation_notices_and_reason_read_in_the_readers_language(customer_world, client):
    with translation.override("en"):
        request = raise_request(
            customer_world["c_th"], customer_world["am_th"], raised_at=hours_ago(30)
        )
        assert request_services.service_requests_escalate() == 1
    due = due_of(request)
    entry = AuditEntry.objects.get(reason_key="services.request.overdue_since")
    assert entry.reason == f"Overdue since {due}"
    notice = Notification.objects.get(user=customer_world["sup_th"])

    with translation.override("zh-hans"):
        assert entry.reason_text == f"已于 {due} 起逾期"
        who = customer_world["am_th"]
        assert (
            notice.text
            == f"天河一号店 的 {request.number} 已逾期（到期时间 {due}，处理人 {who}）。"
        )
    client.force_login(customer_world["sup_th"])
    page = client.get(reverse("services:request_detail", args=[request.pk]), **ZH)
    assert f"已于 {due} 起逾期" in page.content.decode()


def test_a_typed_audit_reason_is_kept_as_typed(customer_world):
    request = raise_request(customer_world["c_th"], customer_world["sup_th"])
    request_services.service_request_assign(
        request=request,
        assignee=customer_world["sup_th2"],
        actor=Actor.of(customer_world["sup_th"], AuditSource.PAGE),
        reason="Zhang is on leave",
    )
    entry = AuditEntry.objects.get(field="assignee")
    with translation.override("zh-hans"):
        assert (entry.reason_key, entry.reason_text) == ("", "Zhang is on leave")


def test_an_abandoned_run_reads_in_the_readers_language(db):
    with translation.override("en"):
        run = GradingRun.objects.create(
            month=dt.date(2026, 1, 1),
            trigger=RunTrigger.SCHEDULE,
            created_at=timezone.now() - dt.timedelta(days=2),
        )
        assert jobs.runs_abandon_dead(GradingRun) == 1
    run.refresh_from_db()
    assert (run.status, run.error_key) == (RunStatus.FAILED, "crm.run.queued_too_long")
    assert run.error.startswith("Abandoned: it waited in the queue")
    with translation.override("zh-hans"):
        assert run.error_text.startswith("已放弃：该任务在队列中等待超过任务时限")


def test_the_default_scheme_is_named_in_the_readers_language_until_renamed(customer_world):
    with translation.override("en"):
        scheme = grading_services.scheme_active()
    assert (scheme.name, scheme.name_key) == (
        "8 grades by monthly average cartons",
        "grading.scheme.default_name",
    )
    with translation.override("zh-hans"):
        assert (scheme.label, scheme.note_text) == ("按月均条数分 8 档", "产品需求中的默认方案。")

    admin = Actor.of(customer_world["admin"], AuditSource.PAGE)
    with translation.override("en"):
        copy = grading_services.scheme_copy(scheme=scheme, actor=admin)
    with translation.override("zh-hans"):
        assert (copy.label, copy.note_text) == (
            "按月均条数分 8 档",
            f"复制自版本 {scheme.version}。",
        )
        # saved as the Chinese reader saw it: the name keeps its key
        kept = grading_services.scheme_update_draft(
            scheme=copy,
            name="按月均条数分 8 档",
            note=copy.note_text,
            parameters=copy.parameters,
            actor=admin,
        )
    assert (kept.name_key, kept.note_key) == (
        "grading.scheme.default_name",
        "crm.scheme.copied_note",
    )
    renamed = grading_services.scheme_update_draft(
        scheme=kept, name="Spring plan", note="tuned", parameters=kept.parameters, actor=admin
    )
    with translation.override("zh-hans"):
        assert (renamed.label, renamed.note_text, renamed.name_key) == ("Spring plan", "tuned", "")
    assert list(AuditEntry.objects.filter(object_id=str(renamed.pk), field__endswith="_key")) == []


def test_the_administrators_recent_changes_show_field_labels(customer_world, client):
    request = raise_request(customer_world["c_th"], customer_world["sup_th"])
    request_services.service_request_assign(
        request=request,
        assignee=customer_world["sup_th2"],
        actor=Actor.of(customer_world["sup_th"], AuditSource.PAGE),
    )
    client.force_login(customer_world["admin"])

    html = client.get(reverse("home"), **ZH).content.decode()
    section = html[html.index('data-testid="recent-changes"') :]
    assert "<td>处理人</td>" in section
    assert "<td>assignee</td>" not in section


def test_audit_field_labels_come_from_the_model_or_the_customer_catalogue(customer_world):
    from customers.models import Customer

    customer_rows = AuditEntry.objects.filter(object_id=str(customer_world["c_th"].pk))
    entry = customer_rows.exclude(field="").first() or customer_rows.first()
    entry.field = "phone"  # a field of the customer's dynamic part, labelled by the catalogue
    with translation.override("zh-hans"):
        assert entry.field_label == "电话"
        assert Customer.audit_field_label("store_name") == "店铺名称"
        entry.field = "no_such_field"
        assert entry.field_label == "no_such_field"


# --- messages rendered now and stored for later (import report row errors) ---------------


def test_a_validation_message_is_shown_now_and_stored_as_its_source():
    from django.core.exceptions import ValidationError
    from django.core.validators import MaxLengthValidator
    from django.utils.translation import gettext_lazy, pgettext_lazy

    from crm.stored_text import display, storable, validation_message_dict, validation_messages

    with translation.override("en"):
        try:
            MaxLengthValidator(3)("abcdef")  # ngettext_lazy, its number named in the params
        except ValidationError as exc:
            [plural] = validation_messages(exc)
        [simple] = validation_messages(ValidationError(gettext_lazy("This field is required.")))
        [context] = validation_messages(ValidationError(pgettext_lazy("list separator", ", ")))
        [typed] = validation_messages(ValidationError("Already text."))
        by_field = validation_message_dict(
            ValidationError({"phone": [ValidationError(gettext_lazy("Unknown field."))]})
        )

    # shown now exactly as `ValidationError.messages` would, as plain text to callers
    assert plural == "Ensure this value has at most 3 characters (it has 6)."
    assert simple == "This field is required."
    assert by_field == {"phone": ["Unknown field."]}
    # stored as the untranslated source with its parameters, rendered in the reader's language
    assert storable(plural)["number"] == "limit_value"
    assert storable(simple) == {"$msgid": "This field is required."}
    assert storable(context) == {"$msgid": ", ", "context": "list separator"}
    assert storable(typed) == "Already text."  # no source to keep: the text itself
    assert storable("plain") == "plain"
    with translation.override("zh-hans"):
        assert display(storable(simple)) == "此字段为必填项。"
        assert display(storable(context)) == "、"
        assert display(storable(plural)) == translation.ngettext(
            "Ensure this value has at most %(limit_value)d character (it has %(show_value)d).",
            "Ensure this value has at most %(limit_value)d characters (it has %(show_value)d).",
            3,
        ) % {"limit_value": 3, "show_value": 6}
        assert display(storable(by_field["phone"][0])) == "未知字段。"


def test_a_rendered_catalogue_text_keeps_its_key_and_survives_copying():
    import copy

    from crm.stored_text import Rendered, display, rendered, storable
    from crm.text import text_error

    with translation.override("en"):
        message = rendered("customers.upsert.repeated_code", i=4)
        surrogate = text_error("a\ud800")

    assert message == "Appears again: first at index 4."
    assert storable(message) == {"$text": "customers.upsert.repeated_code", "params": {"i": 4}}
    assert storable(surrogate) == {"$text": "crm.text.surrogate", "params": {"code": 0xD800}}
    copied = copy.deepcopy(message)  # through __reduce__, as pickling
    assert isinstance(copied, Rendered) and copied.stored == message.stored
    with translation.override("zh-hans"):
        assert display(storable(message)) == "重复出现：首次出现在索引 4 处。"
        assert display({"$msgid": "Unknown %(what)s: %(value)s.", "params": {}}) == (
            "未知的%(what)s：%(value)s。"  # parameters missing: the source, never an error
        )
