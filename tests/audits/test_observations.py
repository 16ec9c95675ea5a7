"""observations_record: one observation per shop, product and month, the latest audit winning,
and the price tallies moved with it."""

import datetime as dt
from decimal import Decimal

import pytest

from audits.models import ProductObservation
from audits.observations import observations_record
from tests.audits.observed import audit_stored, product_form, tallies, when
from tests.orders.factories import make_product

NOV = dt.date(2026, 11, 1)


@pytest.fixture
def world(customer_world):
    return {
        **customer_world,
        "form": product_form(),
        "p1": make_product("P1", suggested_retail_price="250.00"),
        "p2": make_product("P2"),
    }


def _observation(customer, product, month=NOV):
    return ProductObservation.objects.get(customer=customer, product=product, month=month)


def test_first_audit_makes_the_observation_and_counts_the_price(world):
    # when
    audit = audit_stored(
        world["c_th"],
        when(3),
        form=world["form"],
        prices={world["p1"]: "260"},
        shelf={world["p1"]: True, world["p2"]: False},
        facings={world["p1"]: 3},
    )
    # then
    seen = _observation(world["c_th"], world["p1"])
    assert (seen.on_shelf, seen.price, seen.facings, seen.audit_id) == (
        True,
        Decimal("260.00"),
        3,
        audit.pk,
    )
    assert seen.area_id == world["c_th"].area_id
    assert _observation(world["c_th"], world["p2"]).on_shelf is False
    assert _observation(world["c_th"], world["p2"]).price is None
    assert tallies() == {("P1", "TH", "260.00"): 1}


def test_a_later_audit_wins_and_moves_the_shop_to_its_new_price(world):
    audit_stored(world["c_th"], when(3), form=world["form"], prices={world["p1"]: "260"})
    # when
    later = audit_stored(world["c_th"], when(20), form=world["form"], prices={world["p1"]: "240"})
    # then
    assert _observation(world["c_th"], world["p1"]).audit_id == later.pk
    assert _observation(world["c_th"], world["p1"]).price == Decimal("240.00")
    assert tallies() == {("P1", "TH", "240.00"): 1}


def test_an_older_audit_sent_late_does_not_overwrite_a_newer_one(world):
    newer = audit_stored(
        world["c_th"],
        when(20),
        form=world["form"],
        prices={world["p1"]: "240"},
        shelf={world["p1"]: True},
    )
    # when: an offline visit of the 3rd arrives after the 20th's
    audit_stored(
        world["c_th"],
        when(3),
        form=world["form"],
        prices={world["p1"]: "260"},
        shelf={world["p1"]: False},
    )
    # then
    seen = _observation(world["c_th"], world["p1"])
    assert (seen.audit_id, seen.price, seen.on_shelf) == (newer.pk, Decimal("240.00"), True)
    assert tallies() == {("P1", "TH", "240.00"): 1}


def test_each_month_has_its_own_observation(world):
    audit_stored(world["c_th"], when(20, month=10), form=world["form"], prices={world["p1"]: "240"})
    audit_stored(world["c_th"], when(3), form=world["form"], prices={world["p1"]: "260"})
    assert _observation(world["c_th"], world["p1"], dt.date(2026, 10, 1)).price == Decimal("240.00")
    assert _observation(world["c_th"], world["p1"]).price == Decimal("260.00")
    assert tallies(NOV) == {("P1", "TH", "260.00"): 1}
    assert tallies(dt.date(2026, 10, 1)) == {("P1", "TH", "240.00"): 1}


def test_the_month_is_the_site_time_zones(world, settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    # 2026-11-30 16:30 UTC is 2026-12-01 00:30 in Shanghai: December
    moment = dt.datetime(2026, 11, 30, 16, 30, tzinfo=dt.UTC)
    audit_stored(world["c_th"], moment, form=world["form"], prices={world["p1"]: "250"})
    assert ProductObservation.objects.get().month == dt.date(2026, 12, 1)


def test_two_shops_at_one_price_count_two_and_one_moving_leaves_one(world):
    audit_stored(world["c_th"], when(3), form=world["form"], prices={world["p1"]: "250"})
    audit_stored(world["c_th2"], when(4), form=world["form"], prices={world["p1"]: "250"})
    assert tallies() == {("P1", "TH", "250.00"): 2}
    # when
    audit_stored(world["c_th2"], when(10), form=world["form"], prices={world["p1"]: "270"})
    # then
    assert tallies() == {("P1", "TH", "250.00"): 1, ("P1", "TH", "270.00"): 1}


def test_an_audit_without_the_price_keeps_the_months_price(world):
    audit_stored(
        world["c_th"],
        when(3),
        form=world["form"],
        prices={world["p1"]: "250"},
        shelf={world["p1"]: True},
    )
    # when: a later audit only checks the shelf
    audit_stored(world["c_th"], when(10), form=world["form"], shelf={world["p1"]: False})
    # then
    seen = _observation(world["c_th"], world["p1"])
    assert (seen.price, seen.on_shelf) == (Decimal("250.00"), False)
    assert tallies() == {("P1", "TH", "250.00"): 1}


def test_a_shop_moved_to_another_area_moves_its_count(world, areas):
    audit_stored(world["c_th"], when(3), form=world["form"], prices={world["p1"]: "250"})
    world["c_th"].area = areas["YX"]
    world["c_th"].save(update_fields=["area"])
    # when
    audit_stored(world["c_th"], when(10), form=world["form"], prices={world["p1"]: "250"})
    # then
    assert tallies() == {("P1", "YX", "250.00"): 1}


def test_a_batch_of_audits_is_recorded_in_a_few_queries(world, django_assert_max_num_queries):
    products = [make_product(f"B{i:02}") for i in range(20)]
    audits = [
        audit_stored(
            customer,
            when(day),
            form=world["form"],
            record=False,
            prices={p: str(200 + i + day) for i, p in enumerate(products)},
            shelf=dict.fromkeys(products, True),
        )
        for day, customer in (
            (3, world["c_th"]),
            (4, world["c_th2"]),
            (5, world["c_yx"]),
            (9, world["c_th"]),
        )
    ]
    # when: answers read, observations locked and read, one upsert, two tally statements
    with django_assert_max_num_queries(6):
        observations_record(audits=audits)
    # then: the 9th's audit of c_th won over the 3rd's in the same batch
    assert _observation(world["c_th"], products[0]).audit_id == audits[3].pk
    assert sum(tallies().values()) == 60


def test_nothing_to_record_costs_nothing(world, django_assert_num_queries):
    with django_assert_num_queries(0):
        observations_record(audits=[])


def test_a_visit_logged_with_audits_records_its_observations(customer_world):
    # given a form asking a listed product's price per pack (the core's audits_record)
    from audits.choices import ProductScope, QuestionKind
    from tests.audits.factories import make_form
    from tests.visits.factories import actor, visit_data
    from visits import services

    product = make_product("A", suggested_retail_price="300.00")
    form = make_form(
        "prices",
        [
            {
                "kind": QuestionKind.PRODUCT_PRICE,
                "product_scope": ProductScope.LISTED,
                "products": [product],
                "price_unit": "pack",
            }
        ],
    )
    form.activated_at = form.activated_at - dt.timedelta(days=1)
    form.save(update_fields=["activated_at"])
    question = form.questions.get()
    # when
    visit = services.visit_log(
        customer=customer_world["c_th"],
        data=visit_data(),
        actor=actor(customer_world["am_th"]),
        audits=[
            {
                "form": form.pk,
                "answers": [{"question": question.pk, "product_code": "A", "value": "31"}],
            }
        ],
    )
    # then: 31 a pack is 310 a carton, counted once in TH
    seen = ProductObservation.objects.get()
    assert (seen.customer_id, seen.price) == (customer_world["c_th"].pk, Decimal("310.00"))
    assert seen.observed_at == visit.visited_at
    assert tallies() == {("A", "TH", "310.00"): 1}
