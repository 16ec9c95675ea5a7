"""The data migrations that turn stored texts into catalogue keys (crm.stored_text), on
hand-made rows: migrate back to before the conversion, insert rows as the older code wrote
them (in English, in Chinese, and typed by people), migrate forward, read them back."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import translation

pytestmark = pytest.mark.django_db(transaction=True)


def migrate(*targets: tuple[str, str]):
    """Migrates to `targets` and returns the historical apps there."""
    executor = MigrationExecutor(connection)
    executor.migrate(list(targets))
    executor.loader.build_graph()
    return executor.loader.project_state(list(targets)).apps


def latest() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.fixture
def back_to():
    """`back_to(app, migration)`: the historical apps before the conversion; the schema is
    brought back to the latest after the test."""
    yield lambda app, name: migrate((app, name))
    latest()


def make_user(apps, username):
    return apps.get_model("crm", "User").objects.create(username=username, role="supervisor")


def test_notifications_and_audit_reasons_are_recognised_in_both_languages(back_to):
    apps = back_to("crm", "0005_stored_text_keys")
    user = make_user(apps, "sun")
    Notification = apps.get_model("crm", "Notification")
    AuditEntry = apps.get_model("crm", "AuditEntry")
    ContentType = apps.get_model("contenttypes", "ContentType")
    written = {
        "en": "SR-7 for 天河一号店 was given to you: Supply, due 2026-03-02 09:30.",
        "zh": "天河一号店 的 SR-8 已分配给您：货源，到期时间 2026-03-02 09:30。",
        "care": "2 care services are due this week (Family service: 1, Birthday greeting: 1).",
        "warn": "您的客户新增 3 条预警。",
        "typed": "Please call the shop back",
    }
    rows = {k: Notification.objects.create(user=user, message=v) for k, v in written.items()}
    content_type = ContentType.objects.get(app_label="crm", model="user")
    reasons = {
        "overdue": "已于 2026-03-02 09:30 起逾期",
        "applied": "Change request #4: new sign",
        "typed": "He asked for it",
    }
    entries = {
        k: AuditEntry.objects.create(
            actor_label="x",
            source="job",
            content_type=content_type,
            object_id="1",
            object_repr="x",
            action="update",
            reason=v,
        )
        for k, v in reasons.items()
    }

    apps = migrate(("crm", "0006_stored_text_rows"))
    latest()

    from crm.models import AuditEntry as Entry
    from crm.models import Notification as Notice

    notices = {k: Notice.objects.get(pk=row.pk) for k, row in rows.items()}
    assert notices["zh"].message_key == "services.request.assigned"
    assert notices["zh"].message_params["type"] == {
        "$label": "services.choices.RequestType",
        "value": "supply",
    }
    with translation.override("zh-hans"):
        assert (
            notices["en"].text == "天河一号店 的 SR-7 已分配给您：货源，到期时间 2026-03-02 09:30。"
        )
        assert notices["care"].text == "本周有 2 项关怀服务待完成（亲情服务：1、生日问候：1）。"
        assert notices["typed"].text == "Please call the shop back"
    with translation.override("en"):
        assert (
            notices["zh"].text
            == "SR-8 for 天河一号店 was given to you: Supply, due 2026-03-02 09:30."
        )
        assert notices["warn"].text == "3 new early warnings on your customers."
        assert notices["typed"].message_key == ""
        found = {k: Entry.objects.get(pk=e.pk) for k, e in entries.items()}
        assert found["overdue"].reason_text == "Overdue since 2026-03-02 09:30"
        assert (found["applied"].reason_key, found["applied"].reason_params) == (
            "customers.change_request.applied",
            {"id": 4, "reason": "new sign"},
        )
        assert (found["typed"].reason_key, found["typed"].reason_text) == ("", "He asked for it")


def test_stale_comments_and_import_warnings_are_recognised(back_to):
    apps = back_to("customers", "0009_change_request_comment_key")
    user = make_user(apps, "zhang")
    area = apps.get_model("crm", "Area").objects.create(code="TH", name="天河")
    customer = apps.get_model("customers", "Customer").objects.create(
        customer_code="440100000001", store_name="店", area=area
    )
    ChangeRequest = apps.get_model("customers", "ChangeRequest")

    def request(status, comment):
        return ChangeRequest.objects.create(
            customer=customer,
            requested_by=user,
            reason="r",
            changes=[],
            status=status,
            decision_comment=comment,
        )

    report = {
        "rows": [
            {"row": 2, "warnings": ["电话与本文件第 2 行相同。", "Something else"]},
            {"row": 3, "warnings": ["Same address as customer(s) 440100000001 and 2 more."]},
        ]
    }
    checked = apps.get_model("customers", "CustomerImport").objects.create(
        original_name="a.csv", status="checked", report=report, created_by=user
    )
    stale = request("stale", "Stale: store_name, business_scope changed since the request.")
    odd = request("stale", "Stale: whatever changed since the request.")
    rejected = request("rejected", "Stale: store_name changed since the request.")

    migrate(("customers", "0010_change_request_comment_rows"))
    latest()

    from crm.stored_text import display
    from customers.models import ChangeRequest as Request
    from customers.models import CustomerImport

    rows = CustomerImport.objects.get(pk=checked.pk).report["rows"]
    with translation.override("en"):
        assert [display(w) for w in rows[0]["warnings"]] == [
            "Same phone as row 2 of this file.",
            "Something else",
        ]
        assert display(rows[1]["warnings"][0]) == (
            "Same address as customer(s) 440100000001 and 2 more."
        )

    with translation.override("zh-hans"):
        assert Request.objects.get(pk=stale.pk).decision_comment_text == (
            "已失效：提交申请后 店铺名称、经营范围 已发生变化。"
        )
        # a name that is no field is kept as written, inside the translated sentence
        assert Request.objects.get(pk=odd.pk).decision_comment_text == (
            "已失效：提交申请后 whatever 已发生变化。"
        )
        # a typed comment (only stale requests carry the system's) is left alone
        assert Request.objects.get(pk=rejected.pk).decision_comment_key == ""


def test_default_scheme_names_notes_and_abandoned_runs_get_their_keys(back_to):
    apps = back_to("grading", "0006_stored_text_keys")
    Scheme = apps.get_model("grading", "GradingScheme")
    Run = apps.get_model("grading", "GradingRun")
    default = Scheme.objects.create(
        version=1,
        name="按月均条数分 8 档",
        status="retired",
        parameters={},
        kind="thresholds",
        note="The default of the product brief.",
    )
    copied = Scheme.objects.create(
        version=2,
        name="Spring plan",
        status="draft",
        parameters={},
        kind="thresholds",
        note="复制自版本 1。",
    )
    abandoned = Run.objects.create(
        month=dt.date(2026, 1, 1),
        trigger="schedule",
        status="failed",
        error="Abandoned: it waited in the queue longer than the task time limit and no worker "
        "started it. Start the month again.",
    )
    crashed = Run.objects.create(
        month=dt.date(2026, 2, 1), trigger="schedule", status="failed", error="ValueError: x"
    )

    migrate(("grading", "0007_stored_text_rows"))
    latest()

    from grading.models import GradingRun, GradingScheme

    with translation.override("en"):
        first = GradingScheme.objects.get(pk=default.pk)
        assert (first.label, first.note_text) == (
            "8 grades by monthly average cartons",
            "The default of the product brief.",
        )
        second = GradingScheme.objects.get(pk=copied.pk)
        assert (second.label, second.name_key, second.note_text) == (
            "Spring plan",
            "",
            "Copied from version 1.",
        )
    with translation.override("zh-hans"):
        assert GradingRun.objects.get(pk=abandoned.pk).error_text.startswith("已放弃")
        assert GradingRun.objects.get(pk=crashed.pk).error_text == "ValueError: x"


def test_the_valuation_default_scheme_gets_its_key(back_to):
    apps = back_to("valuation", "0005_stored_text_keys")
    Scheme = apps.get_model("valuation", "ValuationScheme")
    scheme = Scheme.objects.create(
        version=1, name="Five indicators, 2×2 tiers", status="active", parameters={}
    )

    migrate(("valuation", "0006_stored_text_rows"))
    latest()

    from valuation.models import ValuationScheme

    with translation.override("zh-hans"):
        assert ValuationScheme.objects.get(pk=scheme.pk).label == "五项指标，2×2 价值类别"
