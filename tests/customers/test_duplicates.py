"""The likely-duplicates page: pairs in the user's scope by normalised phone or address,
dismissed with a reason."""

import pytest
from django.urls import reverse

from crm.models import AuditEntry
from customers.models import DuplicateDismissal
from customers.selectors import DUPLICATE_GROUP_MAX, duplicate_pairs
from tests.customers.factories import make_customer

URL = reverse("customers:duplicates")


@pytest.fixture
def shops(customer_world, areas):
    """c_th (天河一号店, 13800000001) and, in 天河: the same phone written another way; two
    records of one shop at one address; in 越秀: c_th's phone again."""
    am_th, am_yx = customer_world["am_th"], customer_world["am_yx"]
    return {
        "same_phone": make_customer(
            areas["TH"], am_th, store_name="天河烟酒", phone="+86 138-0000-0001"
        ),
        "shop_a": make_customer(
            areas["TH"], customer_world["am_th2"], store_name="张记烟酒店", address="体育西路 8 号"
        ),
        "shop_b": make_customer(areas["TH"], am_th, store_name="张记烟酒", address="体育西路８號"),
        "other_area": make_customer(
            areas["YX"], am_yx, store_name="越秀烟酒", phone="138 0000 0001"
        ),
    }


def _pairs(user, kind="") -> set[tuple[str, str, frozenset]]:
    pairs = duplicate_pairs(user=user, kind=kind)
    listed = pairs[0 : pairs.count()]
    return {(p.first.customer_code, p.second.customer_code, frozenset(p.reasons)) for p in listed}


def test_a_supervisor_sees_the_pairs_of_their_areas_only(customer_world, shops):
    c_th = customer_world["c_th"]
    pairs = _pairs(customer_world["sup_th"])
    assert pairs == {
        (c_th.customer_code, shops["same_phone"].customer_code, frozenset({"phone"})),
        (
            shops["shop_a"].customer_code,
            shops["shop_b"].customer_code,
            frozenset({"address", "name"}),
        ),
    }


def test_an_administrator_sees_pairs_across_areas(customer_world, shops):
    codes = {(a, b) for a, b, _r in _pairs(customer_world["admin"])}
    c_th, yx = customer_world["c_th"].customer_code, shops["other_area"].customer_code
    assert (c_th, yx) in codes and len(codes) == 4  # th-same, th-yx, same-yx, a-b


def test_two_shops_in_one_building_are_a_pair_without_similar_names(customer_world, areas):
    make_customer(areas["TH"], customer_world["am_th"], store_name="便利店", address="天河城 1 楼")
    make_customer(areas["TH"], customer_world["am_th"], store_name="烟草专卖", address="天河城1楼")
    [(_a, _b, reasons)] = _pairs(customer_world["sup_th"], kind="address")
    assert reasons == {"address"}


def test_pairs_with_both_reasons_come_first_and_pages_hold_their_share(customer_world, areas):
    am = customer_world["am_th"]
    for n in range(3):  # three pairs by address only
        for m in range(2):
            make_customer(areas["TH"], am, store_name=f"店{n}{m}", address=f"天河北路 {n} 号")
    one = make_customer(
        areas["TH"], am, store_name="甲", phone="13711112222", address="华夏路 1 号"
    )
    two = make_customer(
        areas["TH"], am, store_name="乙", phone="137 1111 2222", address="华夏路1号"
    )
    pairs = duplicate_pairs(user=customer_world["sup_th"])
    assert pairs.count() == 4  # c_th has no other shop's phone in TH here

    first_page, second_page = pairs[0:2], pairs[2:4]

    assert (first_page[0].first, first_page[0].second) == (one, two)
    assert first_page[0].reasons == {"phone", "address"}
    assert len(second_page) == 2
    codes = [(p.first.customer_code, p.second.customer_code) for p in first_page + second_page]
    assert len(set(codes)) == 4


def test_a_value_shared_by_many_shops_is_listed_once_not_as_pairs(customer_world, areas):
    for n in range(DUPLICATE_GROUP_MAX + 1):
        make_customer(
            areas["TH"], customer_world["am_th"], store_name=f"店{n}", phone="400-800-8000"
        )
    pairs = duplicate_pairs(user=customer_world["sup_th"])
    assert pairs.count() == 0
    shared = pairs.shared_values()
    assert [(s.kind, s.value, s.count) for s in shared] == [
        ("phone", "400-800-8000", DUPLICATE_GROUP_MAX + 1)
    ]


def test_the_page_lists_pairs_filters_them_and_keeps_its_query_count(
    client, customer_world, shops, django_assert_max_num_queries
):
    client.force_login(customer_world["sup_th"])
    with django_assert_max_num_queries(14):
        page = client.get(URL)
    assert page.status_code == 200
    assert page.content.decode().count('data-testid="pair"') == 2
    assert shops["other_area"].store_name not in page.content.decode()
    by_address = client.get(URL, {"reason": "address"}).content.decode()
    assert by_address.count('data-testid="pair"') == 1
    assert shops["shop_a"].store_name in by_address


def test_dismissing_a_pair_needs_a_reason_then_hides_it_and_audits_both(
    client, customer_world, shops
):
    client.force_login(customer_world["sup_th"])
    a, b = shops["shop_a"], shops["shop_b"]
    pair = {"first": b.customer_code, "second": a.customer_code}

    refused = client.post(reverse("customers:duplicate_dismiss"), {**pair, "reason": " "})
    assert refused.status_code == 302
    assert not DuplicateDismissal.objects.exists()

    client.post(reverse("customers:duplicate_dismiss"), {**pair, "reason": "两家店，同一栋楼"})

    dismissal = DuplicateDismissal.objects.get()
    assert (dismissal.customer_a, dismissal.customer_b) == tuple(sorted((a, b), key=lambda c: c.pk))
    assert dismissal.dismissed_by == customer_world["sup_th"]
    assert (a.customer_code, b.customer_code) not in {
        (x, y) for x, y, _r in _pairs(customer_world["sup_th"])
    }
    audits = AuditEntry.objects.filter(field="not_duplicate_of")
    assert sorted(audits.values_list("object_id", "new_value")) == sorted(
        [(str(a.pk), b.customer_code), (str(b.pk), a.customer_code)]
    )
    assert audits.first().reason == "两家店，同一栋楼"
    listed = client.get(URL, {"show": "dismissed"}).content.decode()
    assert "两家店，同一栋楼" in listed


def test_only_supervisors_and_administrators_review_duplicates(client, customer_world, shops):
    client.force_login(customer_world["am_th"])
    assert client.get(URL).status_code == 403
    pair = {"first": shops["shop_a"].customer_code, "second": shops["shop_b"].customer_code}
    response = client.post(reverse("customers:duplicate_dismiss"), {**pair, "reason": "x"})
    assert response.status_code == 403
    assert not DuplicateDismissal.objects.exists()


def test_a_supervisor_cannot_dismiss_a_pair_outside_their_areas(client, customer_world, shops):
    client.force_login(customer_world["sup_th"])
    pair = {
        "first": customer_world["c_th"].customer_code,
        "second": shops["other_area"].customer_code,
    }
    response = client.post(reverse("customers:duplicate_dismiss"), {**pair, "reason": "x"})
    assert response.status_code == 404
    assert not DuplicateDismissal.objects.exists()


def test_an_administrator_can_open_the_merge_page_from_a_pair(client, customer_world, shops):
    a, b = shops["shop_a"], shops["shop_b"]
    client.force_login(customer_world["admin"])
    page = client.get(URL, {"reason": "address"}).content.decode()
    merge = f"{reverse('customers:merge')}?a={a.customer_code}&amp;b={b.customer_code}"
    assert merge in page
    client.force_login(customer_world["sup_th"])
    assert 'data-testid="merge-pair"' not in client.get(URL).content.decode()


def test_a_merge_carries_the_merged_records_judgements_to_the_survivor(customer_world, shops):
    from crm.choices import AuditSource
    from crm.services import Actor
    from customers.services import customer_merge, duplicate_dismiss

    # given shop_b judged distinct from same_phone, and from shop_a (which it is merged into)
    admin = customer_world["admin"]
    a, b, other = shops["shop_a"], shops["shop_b"], shops["same_phone"]
    duplicate_dismiss(first=b, second=other, user=admin, reason="两家店")
    duplicate_dismiss(first=b, second=a, user=admin, reason="误判")

    customer_merge(
        survivor=a,
        merged=b,
        values={},
        confirm_months=True,
        actor=Actor.of(admin, AuditSource.PAGE),
    )

    assert list(DuplicateDismissal.objects.values_list("customer_a", "customer_b", "reason")) == [
        (*sorted((a.pk, other.pk)), "两家店")
    ]
