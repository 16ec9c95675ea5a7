"""Which forms a shop is asked (audits.due): targeting, frequency, per-product questions,
eligible products, versions accepted for a visit sent late."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from audits.choices import FormStatus, Frequency, ProductScope, QuestionKind
from audits.due import eligible_products, forms_accepted, forms_due
from audits.models import Audit
from crm.choices import AuditSource
from crm.services import Actor
from customers.models import CustomerSystem
from customers.services import customer_update
from orders.services import order_sync_many
from tests.allocation.factories import grade, publish, published_plan
from tests.audits.factories import make_form
from tests.orders.factories import make_product, order_payload
from tests.visits.factories import log_visit

ON = dt.date(2026, 12, 15)


def local(day: dt.date, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def codes(due) -> list[str]:
    return [d.form.code for d in due]


@pytest.fixture
def world(customer_world):
    return customer_world


def set_system(customer, **fields):
    CustomerSystem.objects.filter(customer=customer).update(**fields)
    customer.refresh_from_db()
    return customer


def audit_at(customer, form, when: dt.datetime, user) -> Audit:
    visit = log_visit(customer, user, visited_at=timezone.now() - dt.timedelta(hours=1))
    return Audit.objects.create(
        visit=visit, form=form, customer=customer, audited_by=user, audited_at=when
    )


# --- targeting -----------------------------------------------------------------------------


def test_an_untargeted_active_form_is_due_everywhere_and_drafts_are_not(world):
    make_form("all")
    make_form("draft", status=FormStatus.DRAFT)
    assert codes(forms_due(customer=world["c_th"], on=ON)) == ["all"]


@pytest.mark.parametrize(
    ("filters", "due"),
    [
        ({"business_formats": ["Z"]}, True),
        ({"business_formats": ["B"]}, False),
        ({"market_types": ["C"]}, True),
        ({"market_types": ["V"]}, False),
        ({"value_tiers": ["core"]}, True),
        ({"value_tiers": ["potential"]}, False),
        ({"structure_classes": [3]}, True),
        ({"structure_classes": [4]}, False),
        ({"business_formats": ["Z"], "structure_classes": [4]}, False),
    ],
)
def test_each_filter_that_is_set_must_match(world, filters, due):
    shop = set_system(world["c_th"], value_tier="core", structure_class=3)
    make_form("f", **filters)
    assert codes(forms_due(customer=shop, on=ON)) == (["f"] if due else [])


def test_a_blank_attribute_passes_no_filter_that_is_set(world):
    shop = set_system(world["c_th"], value_tier="", structure_class=None)
    make_form("tier", value_tiers=["core"])
    make_form("cls", structure_classes=[3])
    make_form("open")
    assert codes(forms_due(customer=shop, on=ON)) == ["open"]


def test_an_area_includes_the_areas_below_it(world, areas):
    make_form("city", area_ids=[areas["GZ"].pk])
    make_form("district", area_ids=[areas["TH"].pk])
    make_form("other", area_ids=[areas["SZ"].pk])
    assert codes(forms_due(customer=world["c_th"], on=ON)) == ["city", "district"]
    assert codes(forms_due(customer=world["c_yx"], on=ON)) == ["city"]


def test_a_closed_shop_is_never_due(world):
    make_form("all")
    actor = Actor.system("tests", AuditSource.COMMAND)
    customer_update(customer=world["c_th"], data={"status": "closed"}, actor=actor)
    world["c_th"].refresh_from_db()
    assert forms_due(customer=world["c_th"], on=ON) == []


# --- frequency -----------------------------------------------------------------------------


def test_every_visit_is_always_due(world):
    form = make_form("ev", frequency=Frequency.EVERY_VISIT)
    audit_at(world["c_th"], form, local(ON), world["am_th"])
    assert codes(forms_due(customer=world["c_th"], on=ON)) == ["ev"]


def test_monthly_is_due_again_the_next_month_in_the_site_time_zone(world):
    form = make_form("m", frequency=Frequency.MONTHLY)
    shop = world["c_th"]
    # 30 November 23:30 in Shanghai is 15:30 UTC: November's audit, not December's
    audit_at(shop, form, local(dt.date(2026, 11, 30)).replace(hour=23, minute=30), world["am_th"])
    assert codes(forms_due(customer=shop, on=dt.date(2026, 11, 30))) == []
    assert codes(forms_due(customer=shop, on=dt.date(2026, 12, 1))) == ["m"]
    # 1 December 00:10 local (still 30 November in UTC) counts for December
    audit_at(shop, form, local(dt.date(2026, 12, 1), 0).replace(minute=10), world["am_th"])
    assert codes(forms_due(customer=shop, on=dt.date(2026, 12, 31))) == []
    assert codes(forms_due(customer=world["c_th2"], on=ON)) == ["m"]


def test_monthly_counts_an_audit_of_an_older_version_of_the_code(world):
    old = make_form("m", frequency=Frequency.MONTHLY, status=FormStatus.RETIRED)
    make_form("m", frequency=Frequency.MONTHLY, version=2)
    audit_at(world["c_th"], old, local(ON), world["am_th"])
    assert forms_due(customer=world["c_th"], on=ON) == []


def test_once_is_never_due_again(world):
    form = make_form("o", frequency=Frequency.ONCE)
    assert codes(forms_due(customer=world["c_th"], on=ON)) == ["o"]
    audit_at(world["c_th"], form, local(dt.date(2025, 1, 10)), world["am_th"])
    assert forms_due(customer=world["c_th"], on=ON) == []


# --- per-product questions -------------------------------------------------------------------


def test_a_listed_per_product_question_is_asked_once_per_active_product_by_code(world):
    b, a = make_product("B002"), make_product("A001")
    gone = make_product("C003", active=False)
    make_form(
        "shelf",
        [
            {"kind": QuestionKind.YES_NO, "key": "open"},
            {
                "kind": QuestionKind.PRODUCT_SHELF,
                "product_scope": ProductScope.LISTED,
                "products": [b, a, gone],
            },
            {"kind": QuestionKind.TEXT, "key": "notes"},
        ],
    )
    (due,) = forms_due(customer=world["c_th"], on=ON)
    assert [(d.question.key, d.product_code) for d in due.questions] == [
        ("open", None),
        ("q2", "A001"),
        ("q2", "B002"),
        ("notes", None),
    ]


@pytest.fixture
def eligible_world(world):
    """th ordered A in November and B (cancelled) and C long ago; it has a quota of Q in
    December 2026."""
    actor = Actor.system("tests", AuditSource.COMMAND)
    products = {code: make_product(code) for code in ("A", "B", "C", "Q", "Z")}
    order_sync_many(
        rows=[
            order_payload("o1", world["c_th"], [("A", 2, "200")], order_date="2026-11-20"),
            order_payload(
                "o2", world["c_th"], [("B", 2, "200")], order_date="2026-11-21", status="cancelled"
            ),
            order_payload("o3", world["c_th"], [("C", 2, "200")], order_date="2026-08-01"),
            order_payload("o4", world["c_th2"], [("Z", 2, "200")], order_date="2026-11-20"),
        ],
        source="erp",
        actor=actor,
    )
    grade(world["c_th"], "2026-12", 1, 1)
    publish("2026-12")
    published_plan(products["Q"], actor)
    return {**world, **products}


def test_eligible_products_are_ordered_lately_or_under_a_quota_in_force(eligible_world):
    shop = eligible_world["c_th"]
    assert [p.code for p in eligible_products(customer=shop, on=ON)] == ["A", "Q"]
    # the quota is not in force in November; the August order is within 90 days of 1 October
    assert [p.code for p in eligible_products(customer=shop, on=dt.date(2026, 10, 1))] == ["C"]


def test_an_eligible_per_product_question_asks_about_the_shops_products(eligible_world):
    make_form(
        "price",
        [
            {
                "kind": QuestionKind.PRODUCT_PRICE,
                "product_scope": ProductScope.ELIGIBLE,
                "price_unit": "carton",
            }
        ],
    )
    (due,) = forms_due(customer=eligible_world["c_th"], on=ON)
    assert [d.product_code for d in due.questions] == ["A", "Q"]
    (other,) = forms_due(customer=eligible_world["c_th2"], on=ON)
    assert [d.product_code for d in other.questions] == ["Z"]


def test_forms_due_reads_a_fixed_number_of_queries(world, django_assert_max_num_queries):
    products = [make_product(f"P{n}") for n in range(5)]
    for code in ("a", "b", "c"):
        make_form(
            code,
            [{"kind": QuestionKind.YES_NO}, {"kind": QuestionKind.NUMBER}]
            + [
                {
                    "kind": QuestionKind.PRODUCT_SHELF,
                    "product_scope": "listed",
                    "products": products,
                }
            ]
            * 3,
            frequency=Frequency.MONTHLY,
            area_ids=[world["c_th"].area_id],
        )
    shop = world["c_th"]
    shop.dynamic, shop.system  # noqa: B018 (loaded as a page would)
    # forms, questions, products, area tree, audits
    with django_assert_max_num_queries(5):
        due = forms_due(customer=shop, on=ON)
    assert len(due) == 3
    assert len(due[0].questions) == 2 + 3 * 5


# --- accepted versions ---------------------------------------------------------------------


def test_a_visit_sent_late_is_accepted_for_the_version_it_was_shown(world):
    shop = world["c_th"]
    old = make_form("f", status=FormStatus.RETIRED)
    old.activated_at = local(dt.date(2026, 11, 1))
    old.retired_at = local(dt.date(2026, 12, 5))
    old.save()
    new = make_form("f", version=2)
    new.activated_at = old.retired_at
    new.save()
    before = forms_accepted(customer=shop, at=local(dt.date(2026, 12, 4)))
    after = forms_accepted(customer=shop, at=local(dt.date(2026, 12, 6)))
    assert [d.form.pk for d in before] == [old.pk]
    assert [d.form.pk for d in after] == [new.pk]
    # the monthly / once rules do not refuse an accepted form
    audit_at(shop, new, local(dt.date(2026, 12, 6)), world["am_th"])
    new.frequency = Frequency.ONCE
    new.save()
    assert [d.form.pk for d in forms_accepted(customer=shop, at=local(ON))] == [new.pk]
    assert forms_due(customer=shop, on=ON) == []


def test_accepted_forms_still_follow_the_targeting(world, areas):
    make_form("sz", area_ids=[areas["SZ"].pk])
    assert forms_accepted(customer=world["c_th"], at=timezone.now()) == []
