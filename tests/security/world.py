"""The fixture world of the security suite: the people of `customer_world` (tests/conftest.py)
and one object of every kind a URL names, in scope of TH (owned by am_th where a row has an
owner), with the same kinds of rows for the YX customer so leaks have something to leak.

Built through the services (the public surface) once per test module; see conftest.py.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from crm.choices import AuditSource, Role
from crm.dates import add_months, month_start
from crm.services import Actor, api_client_create, notify
from tests.crm.factories import AreaFactory, UserFactory
from tests.customers.factories import make_customer
from tests.grading.factories import make_fact

# What identifies the YX customer in a response body: a TH user must never see any of it.
YX_CODE = "440177700001"
YX_NAME = "越秀秘密店"
YX_PHONE = "13977700001"
YX_LICENSE = "990177700001"
TH_PHONE = "13800000001"

# Everyone who may hold a session (the integration client too: pages must refuse it).
PEOPLE = (
    "am_th",
    "am_th2",
    "am_yx",
    "sup_th",
    "sup_th2",
    "sup_yx",
    "sup_gz",
    "admin",
    "lo_th",
    "lo_yx",
    "sup_sz",
    "am_sz",
    "lo_sz",
    "client",
)

MONTH = month_start(timezone.localdate())


def actor(user) -> Actor:
    return Actor.of(user, AuditSource.PAGE)


def build_world() -> dict[str, Any]:
    """Everything the matrix, scope and CSRF tests read: people, customers and one row of each
    kind (the TH row under its kind's name, the YX row under `<name>_yx`)."""
    from customers import services as customer_services
    from customers.imports import customer_import_check
    from grading import services as grading_services
    from orders.models import Order
    from orders.services import order_sync_many
    from services import services as service_services
    from services.models import Holiday
    from valuation import services as valuation_services
    from valuation.choices import RecordType, WarningKind
    from valuation.models import EarlyWarning
    from visits import services as visit_services
    from visits.models import PlannedVisit

    w: dict[str, Any] = {}
    gz = AreaFactory(code="GZ", name="广州市")
    areas = {
        "GZ": gz,
        "TH": AreaFactory(code="TH", name="天河区", parent=gz),
        "YX": AreaFactory(code="YX", name="越秀区", parent=gz),
        "SZ": AreaFactory(code="SZ", name="深圳市"),
    }
    w["areas"] = areas

    def person(role, area_codes, username):
        return UserFactory(role=role, areas=[areas[c] for c in area_codes], username=username)

    w.update(
        am_th=person(Role.ACCOUNT_MANAGER, ["TH"], "am_th"),
        am_th2=person(Role.ACCOUNT_MANAGER, ["TH"], "am_th2"),
        am_yx=person(Role.ACCOUNT_MANAGER, ["YX"], "am_yx"),
        sup_th=person(Role.SUPERVISOR, ["TH"], "sup_th"),
        sup_th2=person(Role.SUPERVISOR, ["TH"], "sup_th2"),
        sup_yx=person(Role.SUPERVISOR, ["YX"], "sup_yx"),
        sup_gz=person(Role.SUPERVISOR, ["GZ"], "sup_gz"),
        admin=person(Role.ADMINISTRATOR, [], "admin_x"),
        lo_th=person(Role.LICENSE_OFFICER, ["TH"], "lo_th"),
        lo_yx=person(Role.LICENSE_OFFICER, ["YX"], "lo_yx"),
        # People of SZ, where no customer lives: what a page shows someone who sees nothing
        # (the search box repeating the query, say) is the baseline of the leak test.
        sup_sz=person(Role.SUPERVISOR, ["SZ"], "sup_sz"),
        am_sz=person(Role.ACCOUNT_MANAGER, ["SZ"], "am_sz"),
        lo_sz=person(Role.LICENSE_OFFICER, ["SZ"], "lo_sz"),
    )
    system = Actor.system("tests", AuditSource.COMMAND)
    w["client"], w["client_token"] = api_client_create(name="erp_sec", actor=system)

    w["c_th"] = make_customer(areas["TH"], w["am_th"], store_name="天河一号店", phone=TH_PHONE)
    w["c_th2"] = make_customer(areas["TH"], w["am_th2"], store_name="天河二号店")
    w["c_yx"] = make_customer(
        areas["YX"],
        w["am_yx"],
        customer_code=YX_CODE,
        store_name=YX_NAME,
        phone=YX_PHONE,
        license_number=YX_LICENSE,
        address="越秀区秘密路1号",
    )
    # c_yx's address written another way: the administrator's duplicates page pairs them,
    # a TH supervisor's must not (c_yx is outside TH).
    w["c_th_dup"] = make_customer(
        areas["TH"], w["am_th"], store_name="天河三号店", address="越秀区 秘密路 1 號"
    )

    # Change requests (an approval field), one per side, each with a PDF attachment.
    from tests.crm.upload_files import pdf_bytes

    w["change_request"] = customer_services.customer_propose(
        customer=w["c_th"],
        user=w["am_th"],
        data={"store_name": "天河一号店（改）"},
        reason="sign",
        attachment=SimpleUploadedFile("licence-scan.pdf", pdf_bytes()),
    ).change_request
    w["change_request_yx"] = customer_services.customer_propose(
        customer=w["c_yx"],
        user=w["am_yx"],
        data={"store_name": YX_NAME + "二"},
        reason="sign",
        attachment=SimpleUploadedFile("licence-scan.pdf", pdf_bytes()),
    ).change_request
    assert w["change_request"] and w["change_request_yx"]  # noqa: S101

    # A checked import (administrators only).
    csv = f"customer_code,store_name\n{w['c_th'].customer_code},天河一号店\n".encode()
    w["import"] = customer_import_check(
        uploaded_file=SimpleUploadedFile("c.csv", csv, content_type="text/csv"), user=w["admin"]
    )

    # Sales: facts for the grading window, and one order each through the sync.
    from tests.orders.factories import make_product

    product = make_product("6901028000001")
    for customer, cartons in ((w["c_th"], 600), (w["c_th2"], 120), (w["c_yx"], 900)):
        for k in (1, 2, 3):
            start = add_months(MONTH, -k)
            make_fact(customer, start, cartons, first_order_date=add_months(MONTH, -4))
    day = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    rows = [
        {
            "external_id": f"SEC-{key}",
            "customer_code": w[key].customer_code,
            "order_date": day,
            "status": "delivered",
            "payment_method": "electronic",
            "paid_on_time": True,
            "payment_date": None,
            "lines": [{"product_code": product.code, "quantity": 5, "unit_price": "230.00"}],
        }
        for key in ("c_th", "c_yx")
    ]
    order_sync_many(rows=rows, source="erp_sec", actor=system, refresh_facts=False)
    w["order"] = Order.objects.get(external_id="SEC-c_th")
    w["order_yx"] = Order.objects.get(external_id="SEC-c_yx")

    # Supply allocation: a plan of that product in force, each order over its shop's quota
    # (rows written directly: the order came in before the plan).
    from allocation.models import AllocationException, AllocationPlan, AllocationQuota

    plan = AllocationPlan.objects.create(
        code="SEC-PLAN",
        product=product,
        starts_on=MONTH,
        ends_on=add_months(MONTH, 1) - dt.timedelta(days=1),
        quotas={"1": 1},
        status="published",
        grade_month=MONTH,
    )
    for suffix, key in (("", "c_th"), ("_yx", "c_yx")):
        quota = AllocationQuota.objects.create(
            plan=plan, customer=w[key], grade=1, requested=1, quota=1, ordered=5
        )
        w["allocation_exception" + suffix] = AllocationException.objects.create(
            quota=quota, order=w["order" + suffix], cartons=5, ordered=5, quota_cartons=1
        )

    # Grading and valuation: a run each, drafts, a peak month, overrides.
    grading_services.grading_recompute(month=MONTH, actor=system)
    valuation_services.valuation_recompute(month=MONTH, actor=system)
    from grading.models import GradingRun, GradingScheme
    from valuation.models import ValuationRun, ValuationScheme

    w["grading_run"] = GradingRun.objects.latest("pk")
    w["valuation_run"] = ValuationRun.objects.latest("pk")
    w["grading_scheme"] = grading_services.scheme_create_draft(
        kind="thresholds", name="Security draft", actor=actor(w["admin"])
    )
    w["grading_scheme_active"] = GradingScheme.objects.exclude(pk=w["grading_scheme"].pk).first()
    w["valuation_scheme"] = valuation_services.scheme_create_draft(
        name="Security draft", actor=actor(w["admin"])
    )
    w["valuation_scheme_active"] = ValuationScheme.objects.exclude(
        pk=w["valuation_scheme"].pk
    ).first()
    # Allocation's quota take-up (the engine's third result): a run and a draft scheme.
    from allocation import takeup
    from allocation.models import AllocationRun
    from allocation.monthly import RULES as ALLOCATION_RULES
    from crm import monthly_runs

    monthly_runs.recompute(ALLOCATION_RULES, month=MONTH, actor=system)
    w["allocation_run"] = AllocationRun.objects.latest("pk")
    w["allocation_scheme"] = takeup.scheme_create_draft(
        name="Security draft", actor=actor(w["admin"])
    )
    w["peak_month"] = grading_services.peak_month_flag(
        month=add_months(MONTH, -12), label="春节", actor=actor(w["admin"])
    )
    w["override"] = grading_services.override_propose(
        customer=w["c_th"], month=MONTH, grade=2, reason="New front", actor=actor(w["sup_th"])
    )
    w["override_yx"] = grading_services.override_propose(
        customer=w["c_yx"], month=MONTH, grade=2, reason="New front", actor=actor(w["sup_yx"])
    )

    # Supply allocation: the month's grades published, a plan published from them (every
    # graded shop, YX too, has a quota) and a draft. Plans are company-wide; their quotas are
    # scoped like customers.
    from allocation import services as allocation_services

    grading_services.grades_publish(month=MONTH, actor=actor(w["admin"]))
    plan = {
        "product_code": product.code,
        "starts_on": MONTH.isoformat(),
        "ends_on": (add_months(MONTH, 1) - dt.timedelta(days=1)).isoformat(),
        "quotas": {str(g): 5 for g in range(1, 31)},
    }
    w["allocation_plan"] = allocation_services.plan_publish(
        plan=allocation_services.plan_create_draft(
            data={**plan, "code": "SEC-PUB"}, actor=actor(w["admin"])
        ),
        actor=actor(w["admin"]),
    )
    w["allocation_draft"] = allocation_services.plan_create_draft(
        data={**plan, "code": "SEC-DRAFT"}, actor=actor(w["admin"])
    )

    # Compliance records and early warnings.
    last_week = timezone.localdate() - dt.timedelta(days=7)
    w["compliance"] = valuation_services.compliance_record_add(
        customer=w["c_th"],
        date=last_week,
        record_type=RecordType.INSPECTION_PASSED,
        note="",
        actor=actor(w["lo_th"]),
    )
    w["compliance_yx"] = valuation_services.compliance_record_add(
        customer=w["c_yx"],
        date=last_week,
        record_type=RecordType.COUNTERFEIT,
        note=f"Fakes at {YX_NAME}",
        actor=actor(w["lo_yx"]),
    )
    for key in ("c_th", "c_yx"):
        w["warning" + ("_yx" if key == "c_yx" else "")] = EarlyWarning.objects.create(
            customer=w[key],
            kind=WarningKind.DOWNGRADE,
            key=f"{MONTH:%Y-%m}",
            details={"month": f"{MONTH:%Y-%m}", "previous_grade": 2, "grade": 5},
        )

    # Visits: a plan, a visit with a photo and a follow-up, per side.
    from tests.visits.factories import jpeg_bytes, upload, visit_data

    today = timezone.localdate()
    for suffix, key, owner in (("", "c_th", "am_th"), ("_yx", "c_yx", "am_yx")):
        w["plan" + suffix] = PlannedVisit.objects.create(
            customer=w[key], planned_for=today, cycle_days=7
        )
        visit = visit_services.visit_log(
            customer=w[key],
            data=visit_data(
                visited_at=timezone.now() - dt.timedelta(days=1),
                purpose=f"Shelf check {w[key].store_name}",
            ),
            actor=actor(w[owner]),
            follow_ups=[{"action": "Bring posters", "due_date": today + dt.timedelta(days=5)}],
            photo=upload(jpeg_bytes()),
        )
        w["visit" + suffix] = visit
        w["follow_up" + suffix] = visit.follow_ups.get()

    # Retail audits: a photo answer on each side's visit.
    _audit_photos(w)

    # Services: a request, an activity, a training session, a holiday.
    for suffix, key, owner in (("", "c_th", "am_th"), ("_yx", "c_yx", "am_yx")):
        w["service_request" + suffix] = service_services.service_request_raise(
            customer=w[key],
            request_type="delivery",
            priority="normal",
            description=f"Late delivery at {w[key].store_name}",
            actor=actor(w[owner]),
        )
        w["activity" + suffix] = service_services.service_activity_log(
            customer=w[key],
            kind="display",
            performed_on=today,
            actor=actor(w[owner]),
            note="Display guidance",
        )
        w["training" + suffix] = service_services.training_session_log(
            # Sessions are seen by area: the TH title names no customer, the YX one does.
            title="Training TH" if key == "c_th" else f"Training at {YX_NAME}",
            held_on=today,
            area=w[key].area,
            attendees=[w[key]],
            actor=actor(w[owner]),
        )
    w["yesterday"] = timezone.localdate(timezone.now() - dt.timedelta(days=1)).isoformat()
    w["holiday"] = Holiday.objects.create(
        date=today + dt.timedelta(days=40), name_en="Security day", name_zh="安全日"
    )

    # Retail audits: an active form with a yes / no question, and its next version as a draft
    # (forms are company-wide: no customer's row). Through the services, as an administrator.
    from audits import services_forms as audit_forms

    admin = actor(w["admin"])
    w["audit_form"] = audit_forms.form_create(code="SEC-AUDIT", name="Security check", actor=admin)
    audit_forms.question_save(
        form=w["audit_form"], data={"kind": "yes_no", "label": "Price tags?"}, actor=admin
    )
    audit_forms.form_activate(form=w["audit_form"], actor=admin)
    w["audit_form_draft"] = audit_forms.form_new_version(form=w["audit_form"], actor=admin)
    w["audit_question"] = w["audit_form_draft"].questions.get()

    # Retail audits: each side's visit priced a key brand above its suggested retail price and
    # did not have it on the shelf (the price and shelf reports list both shops).
    from audits.models import Audit, AuditAnswer
    from audits.observations import observations_record
    from tests.audits.observed import product_form

    w["audit_product"] = make_product(
        "6901028000099", suggested_retail_price=Decimal("250.00"), is_key_brand=True
    )
    form = product_form("security-prices")
    questions = {q.kind: q for q in form.questions.all()}
    audits = []
    for suffix in ("", "_yx"):
        visit = w["visit" + suffix]
        audit = Audit.objects.create(
            visit=visit,
            form=form,
            customer=visit.customer,
            audited_by=visit.visited_by,
            audited_at=timezone.now() - dt.timedelta(minutes=5),
        )
        AuditAnswer.objects.bulk_create(
            [
                AuditAnswer(
                    audit=audit,
                    question=questions["product_price"],
                    product=w["audit_product"],
                    value="300",
                    number=Decimal("300"),
                ),
                AuditAnswer(
                    audit=audit,
                    question=questions["product_shelf"],
                    product=w["audit_product"],
                    value=False,
                ),
            ]
        )
        audits.append(audit)
    observations_record(audits=audits)

    # A notification for each side (the bell and /notifications/).
    notify(user=w["am_th"], message="Your request was approved", link="/customers/")
    notify(user=w["am_yx"], message=f"{YX_NAME} needs a visit", link="/customers/")
    return w


def _audit_photos(w: dict) -> None:
    """An audit with a photo answer on the TH visit ("audit_answer") and on the YX one."""
    from audits.models import Audit, AuditAnswer
    from tests.audits.factories import make_form
    from tests.visits.factories import jpeg_bytes, upload
    from visits.photos import photo_prepare

    form = make_form("security", [{"key": "photo", "kind": "photo"}])
    for suffix in ("", "_yx"):
        visit = w["visit" + suffix]
        audit = Audit.objects.create(
            visit=visit,
            form=form,
            customer=visit.customer,
            audited_by=visit.visited_by,
            audited_at=visit.visited_at,
        )
        answer = AuditAnswer(audit=audit, question=form.questions.get(), value="photo")
        full, thumb = photo_prepare(upload(jpeg_bytes()), max_mb=5)
        answer.photo.save(full.name, full, save=False)
        answer.photo_thumbnail.save(thumb.name, thumb, save=False)
        answer.save()
        w["audit_answer" + suffix] = answer
