"""The row-level scope rule (crm.scope), on a stand-in model with an area and an owner."""

import pytest
from django.contrib.auth.models import AnonymousUser

from crm.choices import Role
from crm.models import Area
from crm.scope import forget_cached_scope
from tests.scope_testapp.models import Shop, ShopNote


@pytest.fixture
def world(areas, make_user):
    """Two account managers in TH, one in YX, one in SZ, and a shop each (plus one unowned)."""
    am_th1 = make_user(Role.ACCOUNT_MANAGER, [areas["TH"]])
    am_th2 = make_user(Role.ACCOUNT_MANAGER, [areas["TH"]])
    am_yx = make_user(Role.ACCOUNT_MANAGER, [areas["YX"]])
    am_sz = make_user(Role.ACCOUNT_MANAGER, [areas["SZ"]])
    shops = {
        "th1": Shop.objects.create(name="th1", area=areas["TH"], account_manager=am_th1),
        "th2": Shop.objects.create(name="th2", area=areas["TH"], account_manager=am_th2),
        "yx": Shop.objects.create(name="yx", area=areas["YX"], account_manager=am_yx),
        "sz": Shop.objects.create(name="sz", area=areas["SZ"], account_manager=am_sz),
        "gz": Shop.objects.create(name="gz", area=areas["GZ"], account_manager=None),
    }
    for shop in shops.values():
        ShopNote.objects.create(shop=shop, text=f"note {shop.name}")
    return {"am_th1": am_th1, "am_yx": am_yx, "shops": shops}


def visible(user, model=Shop):
    return sorted(str(row) for row in model.objects.visible_to(user))


def test_administrator_sees_every_row(world, make_user):
    admin = make_user(Role.ADMINISTRATOR)
    assert visible(admin) == ["gz", "sz", "th1", "th2", "yx"]


def test_superuser_sees_every_row_whatever_the_role(world, make_user):
    root = make_user(Role.ACCOUNT_MANAGER, is_superuser=True)
    assert len(visible(root)) == 5


def test_integration_client_sees_every_row(world, make_user):
    assert len(visible(make_user(Role.INTEGRATION_CLIENT))) == 5


def test_supervisor_sees_own_area_and_every_area_below(world, areas, make_user):
    city = make_user(Role.SUPERVISOR, [areas["GZ"]])
    district = make_user(Role.SUPERVISOR, [areas["TH"]])
    assert visible(city) == ["gz", "th1", "th2", "yx"]
    assert visible(district) == ["th1", "th2"]


def test_supervisor_of_several_areas_sees_their_union(world, areas, make_user):
    sup = make_user(Role.SUPERVISOR, [areas["YX"], areas["SZ"]])
    assert visible(sup) == ["sz", "yx"]


def test_license_officer_is_scoped_by_area_like_a_supervisor(world, areas, make_user):
    officer = make_user(Role.LICENSE_OFFICER, [areas["YX"]])
    assert visible(officer) == ["yx"]


def test_account_manager_sees_only_own_rows_not_colleagues_in_same_area(world):
    assert visible(world["am_th1"]) == ["th1"]


def test_scope_follows_a_path_through_a_related_row(world, areas, make_user):
    assert visible(world["am_yx"], ShopNote) == ["note yx"]
    assert visible(make_user(Role.SUPERVISOR, [areas["TH"]]), ShopNote) == ["note th1", "note th2"]


def test_account_manager_sees_own_areas_for_models_without_owner(world, areas):
    assert [a.code for a in Area.objects.visible_to(world["am_th1"])] == ["TH"]


def test_nobody_else_sees_anything(world, areas, make_user):
    inactive_admin = make_user(Role.ADMINISTRATOR, is_active=False)
    supervisor_without_area = make_user(Role.SUPERVISOR)
    assert visible(AnonymousUser()) == []
    assert visible(None) == []
    assert visible(inactive_admin) == []
    assert visible(supervisor_without_area) == []


def test_scope_is_computed_once_per_user_object(world, areas, make_user, django_assert_num_queries):
    sup = make_user(Role.SUPERVISOR, [areas["GZ"]])
    visible(sup)
    with django_assert_num_queries(1):  # just the shop query: area ids are cached
        visible(sup)


def test_cached_scope_is_dropped_on_request(world, areas, make_user):
    sup = make_user(Role.SUPERVISOR, [areas["TH"]])
    assert visible(sup) == ["th1", "th2"]
    sup.areas.add(areas["SZ"])
    forget_cached_scope(sup)
    assert visible(sup) == ["sz", "th1", "th2"]


def _sql(qs) -> str:
    return str(qs.query)


def test_supervisor_of_the_whole_tree_sees_every_row_without_an_area_filter(
    world, areas, make_user
):
    whole = make_user(Role.SUPERVISOR, [areas["GZ"], areas["SZ"]])
    every_area = list(Area.objects.values_list("pk", flat=True))
    # Exactly the rows the area filter over every area gave.
    assert visible(whole) == sorted(str(s) for s in Shop.objects.filter(area__in=every_area))
    assert visible(whole) == ["gz", "sz", "th1", "th2", "yx"]
    assert visible(whole, ShopNote) == [f"note {name}" for name in visible(whole)]
    # …with no area condition for the database to check (nor a join to reach one).
    assert "WHERE" not in _sql(Shop.objects.visible_to(whole))
    assert "JOIN" not in _sql(ShopNote.objects.visible_to(whole))


def test_a_supervisor_of_a_part_keeps_the_area_filter(world, areas, make_user):
    city = make_user(Role.SUPERVISOR, [areas["GZ"]])
    assert visible(city) == ["gz", "th1", "th2", "yx"]
    assert "area_id" in _sql(Shop.objects.visible_to(city))


def test_a_new_root_area_is_outside_the_former_whole_tree(world, areas, make_user):
    whole = make_user(Role.SUPERVISOR, [areas["GZ"], areas["SZ"]])
    city = make_user(Role.SUPERVISOR, [areas["GZ"]])
    district = make_user(Role.ACCOUNT_MANAGER, [areas["TH"]])
    assert visible(whole) == ["gz", "sz", "th1", "th2", "yx"]
    hk = Area.objects.create(code="HK", name="香港")
    Shop.objects.create(name="hk", area=hk)
    ShopNote.objects.create(shop=Shop.objects.get(name="hk"), text="note hk")
    # The next request (a fresh user object) reads the tree again: GZ and SZ are no longer
    # every area, so the filter is back and the new root's shop stays out.
    for user in (whole, city, district):
        forget_cached_scope(user)
    assert visible(whole) == ["gz", "sz", "th1", "th2", "yx"]
    assert "note hk" not in visible(whole, ShopNote)
    assert visible(city) == ["gz", "th1", "th2", "yx"]
    assert [a.code for a in Area.objects.visible_to(district)] == ["TH"]
    assert [a.code for a in Area.objects.visible_to(whole)] == ["GZ", "SZ", "TH", "YX"]


def test_whole_tree_scope_without_the_model_still_excludes_rows_without_an_area(
    world, areas, make_user
):
    """Called without the model (it cannot tell whether the area path may be null), the rule
    for a scope of every area still requires an area."""
    from crm.scope import scope_q

    whole = make_user(Role.SUPERVISOR, [areas["GZ"], areas["SZ"]])
    qs = ShopNote.objects.filter(scope_q(whole, ShopNote.scope_paths))
    assert sorted(str(n) for n in qs) == visible(whole, ShopNote)
    assert "IS NOT NULL" in _sql(qs)
