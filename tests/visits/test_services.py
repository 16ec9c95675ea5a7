"""Logging a visit (visit_log): what it refuses, whose customers, the photo, the position,
the planned visit it fulfils, duplicate drafts; and follow-ups.

customer_world: am_th owns c_th in TH, am_th2 owns c_th2, am_yx owns c_yx in YX; sup_th and
lo_th work in TH, sup_gz above TH and YX.
"""

from __future__ import annotations

import datetime as dt
import io
import uuid

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.files.storage import default_storage
from django.utils import timezone
from PIL import Image

from crm.choices import AuditAction, AuditSource, Role
from crm.exceptions import DomainError
from crm.models import AuditEntry
from tests.customers.factories import make_customer
from tests.visits.factories import (
    actor,
    at,
    earlier_today,
    gif_bytes,
    jpeg_bytes,
    log_visit,
    make_plan,
    png_bytes,
    stored_files,
    today,
    upload,
    visit_data,
)
from visits import selectors, services
from visits.choices import FollowUpStatus, PlanStatus
from visits.models import FollowUp, PlannedVisit, Visit

SHOP = {"latitude": "23.130000", "longitude": "113.320000"}


def days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)


@pytest.fixture
def configure(customer_world):
    def change(**data):
        return services.visits_config_update(data=data, actor=actor(customer_world["admin"]))

    return change


@pytest.fixture
def shop(customer_world, areas):
    """A customer of am_th with a recorded position."""
    return make_customer(areas["TH"], customer_world["am_th"], **SHOP)


def nothing_stored(files_before: set[str]) -> None:
    assert Visit.objects.count() == 0
    assert FollowUp.objects.count() == 0
    assert stored_files() == files_before


def refused(customer, user, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as error:
        log_visit(customer, user, **kwargs)
    return error.value


# --- a visit as it should be ---------------------------------------------------------------


def test_a_visit_is_stored_with_its_findings_and_audited(customer_world):
    w = customer_world
    arrived = at(1, 9, 30)

    visit = log_visit(
        w["c_th"],
        w["am_th"],
        visited_at=arrived,
        ended_at=arrived + dt.timedelta(minutes=25),
        visit_type="order",
        purpose="  Take the weekly order  ",
        stock_level="low",
        stock_notes="中华 running out",
        price_display="partial",
        competitor_notes="New shop opposite",
        customer_requests="Wants more 芙蓉王",
    )

    visit.refresh_from_db()
    assert (visit.customer, visit.visited_by, visit.visited_at, visit.duration_minutes) == (
        w["c_th"],
        w["am_th"],
        arrived,
        25,
    )
    assert (visit.visit_type, visit.purpose, visit.stock_level, visit.price_display) == (
        "order",
        "Take the weekly order",
        "low",
        "partial",
    )
    assert visit.has_findings
    assert (visit.source, visit.client_id, visit.photo.name) == (AuditSource.PAGE, None, "")
    assert (visit.latitude, visit.distance_m, visit.location_flagged) == (None, None, False)
    [row] = AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Visit), object_id=str(visit.pk)
    )
    assert (row.actor, row.action, row.source) == (w["am_th"], AuditAction.CREATE, "page")
    assert row.new_value["customer"] == w["c_th"].customer_code
    assert row.new_value["visit_type"] == "order"


def test_a_visit_through_the_api_is_marked_so(customer_world):
    visit = log_visit(customer_world["c_th"], customer_world["am_th"], source=AuditSource.API)
    assert visit.source == AuditSource.API


# --- times, type, purpose, findings --------------------------------------------------------


def _naive_past():
    return dt.datetime(2026, 1, 5, 10, 0)  # noqa: DTZ001 (naive on purpose)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"visited_at": None}, "visited_at"),
        ({"visited_at": "2026-01-05T10:00"}, "visited_at"),  # a string, not a time
        ({"visited_at": dt.date(2026, 1, 5)}, "visited_at"),  # a day, not a time
        ({"visited_at": _naive_past()}, "visited_at"),
        ({"visited_at": "future"}, "visited_at"),
        ({"ended_at": "before"}, "ended_at"),
        ({"ended_at": "13 hours"}, "ended_at"),
        ({"ended_at": _naive_past()}, "ended_at"),
        ({"visit_type": "party"}, "visit_type"),
        ({"visit_type": ""}, "visit_type"),
        ({"purpose": "   "}, "purpose"),
        ({"purpose": "x" * 201}, "purpose"),
        ({"stock_level": "plenty"}, "stock_level"),
        ({"price_display": "yes"}, "price_display"),
        ({"competitor_notes": "x" * 2001}, "competitor_notes"),
    ],
)
def test_visit_fields_are_checked(customer_world, overrides, field):
    arrived = at(1, 10)
    relative = {
        "future": timezone.now() + dt.timedelta(hours=1),
        "before": arrived - dt.timedelta(minutes=1),
        "13 hours": arrived + dt.timedelta(hours=13),
    }
    data = {"visited_at": arrived}
    data.update({k: relative.get(v, v) if isinstance(v, str) else v for k, v in overrides.items()})

    error = refused(customer_world["c_th"], customer_world["am_th"], **data)

    assert field in error.errors
    assert Visit.objects.count() == 0


def test_the_limits_themselves_are_accepted(customer_world):
    arrived = at(1, 8)
    visit = log_visit(
        customer_world["c_th"],
        customer_world["am_th"],
        visited_at=arrived,
        ended_at=arrived + dt.timedelta(hours=12),
        purpose="x" * 200,
    )
    assert visit.duration_minutes == 12 * 60
    # a phone clock a few minutes ahead is not "the future"
    ahead = timezone.now() + dt.timedelta(minutes=5)
    log_visit(customer_world["c_th"], customer_world["am_th"], visited_at=ahead)
    assert Visit.objects.count() == 2


def test_several_refused_fields_are_reported_together(customer_world):
    error = refused(
        customer_world["c_th"], customer_world["am_th"], visit_type="x", purpose="", latitude="1"
    )
    assert {"visit_type", "purpose", "latitude"} <= set(error.errors)


# --- position ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("position", "field"),
    [
        ({"latitude": "23.13"}, "latitude"),
        ({"longitude": "113.32"}, "latitude"),  # only one of the two
        ({"latitude": "91", "longitude": "113.32"}, "latitude"),
        ({"latitude": "-90.5", "longitude": "113.32"}, "latitude"),
        ({"latitude": "23.13", "longitude": "181"}, "longitude"),
        ({"latitude": "north", "longitude": "113.32"}, "latitude"),
        ({"latitude": "23.13", "longitude": "113.32", "location_accuracy_m": "-5"}, None),
        ({"latitude": "23.13", "longitude": "113.32", "location_accuracy_m": "far"}, None),
    ],
)
def test_the_position_is_checked(customer_world, position, field):
    error = refused(customer_world["c_th"], customer_world["am_th"], **position)
    assert (field or "location_accuracy_m") in error.errors
    assert Visit.objects.count() == 0


def test_a_position_that_is_not_a_number_is_refused_not_crashed(customer_world):
    error = refused(customer_world["c_th"], customer_world["am_th"], latitude="NaN", longitude="1")
    assert "latitude" in error.errors


def test_the_distance_to_the_shop_is_stored_and_far_visits_flagged(shop, customer_world):
    am = customer_world["am_th"]

    # 0.001° of latitude north of the shop: about 111 m, inside the default 300 m
    near = log_visit(shop, am, latitude="23.131", longitude="113.32", location_accuracy_m="12.34")
    # 0.003°: about 334 m
    far = log_visit(shop, am, latitude="23.133", longitude="113.32")

    assert near.distance_m == pytest.approx(111.2, abs=0.1)
    assert (near.location_flagged, near.location_accuracy_m) == (False, 12.3)
    assert far.distance_m == pytest.approx(333.6, abs=0.1)
    assert far.location_flagged


def test_the_radius_is_configurable(shop, customer_world, configure):
    configure(location_radius_m=100)
    visit = log_visit(shop, customer_world["am_th"], latitude="23.131", longitude="113.32")
    assert visit.distance_m == pytest.approx(111.2, abs=0.1)
    assert visit.location_flagged


def test_without_the_shops_position_there_is_no_distance(customer_world):
    # c_th has no recorded position
    visit = log_visit(
        customer_world["c_th"], customer_world["am_th"], latitude="23.5", longitude="113.5"
    )
    assert (visit.latitude, visit.longitude) == (pytest.approx(23.5), pytest.approx(113.5))
    assert (visit.distance_m, visit.location_flagged) == (None, False)


def test_without_the_browsers_position_there_is_no_distance(shop, customer_world):
    visit = log_visit(shop, customer_world["am_th"], latitude="", longitude=None)
    assert (visit.latitude, visit.distance_m, visit.location_flagged) == (None, None, False)


# --- whose customers -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "customer"),
    [
        ("am_th", "c_th2"),  # another account manager's customer in the same area
        ("am_th", "c_yx"),
        ("am_yx", "c_th"),
        ("sup_yx", "c_th"),  # a supervisor of another area
    ],
)
def test_a_visit_outside_ones_scope_is_refused(customer_world, who, customer):
    error = refused(customer_world[customer], customer_world[who])
    assert "customer_code" in error.errors
    assert Visit.objects.count() == 0


def test_an_integration_client_does_not_log_visits(customer_world, make_user):
    client = make_user(Role.INTEGRATION_CLIENT, username="erp")
    error = refused(customer_world["c_th"], client, source=AuditSource.API)
    assert "customer_code" in error.errors
    assert Visit.objects.count() == 0


@pytest.mark.parametrize("who", ["am_th", "sup_th", "sup_gz", "lo_th", "admin"])
def test_the_account_manager_and_people_of_the_area_log_visits(customer_world, who):
    visit = log_visit(customer_world["c_th"], customer_world[who], visit_type="inspection")
    assert visit.visited_by == customer_world[who]


def test_an_inactive_user_does_not_log_visits(customer_world):
    am = customer_world["am_th"]
    am.is_active = False
    am.save(update_fields=["is_active"])
    with pytest.raises(DomainError):
        log_visit(customer_world["c_th"], am)
    assert Visit.objects.count() == 0


# --- photo ---------------------------------------------------------------------------------


def _open_image(name: str) -> Image.Image:
    with default_storage.open(name, "rb") as file:
        image = Image.open(io.BytesIO(file.read()))
        image.load()
    return image


def test_a_jpeg_photo_is_stored_with_a_thumbnail(customer_world):
    before = stored_files()

    visit = log_visit(
        customer_world["c_th"], customer_world["am_th"], photo=upload(jpeg_bytes(1200, 800))
    )

    assert visit.photo.name.startswith("visits/")
    assert visit.photo.name.endswith(".jpg")
    assert visit.photo_thumbnail.name.endswith("-thumb.jpg")
    assert stored_files() - before == {visit.photo.name, visit.photo_thumbnail.name}
    assert _open_image(visit.photo.name).size == (1200, 800)
    thumbnail = _open_image(visit.photo_thumbnail.name)
    assert (thumbnail.format, thumbnail.size) == ("JPEG", (480, 320))


def test_a_png_photo_is_taken_by_its_content_whatever_its_name(customer_world):
    photo = upload(png_bytes(300, 600), name="IMG_0001.jpeg", content_type="image/jpeg")

    visit = log_visit(customer_world["c_th"], customer_world["am_th"], photo=photo)

    assert visit.photo.name.endswith(".png")
    thumbnail = _open_image(visit.photo_thumbnail.name)
    assert max(thumbnail.size) <= 480
    assert thumbnail.size == (240, 480)


@pytest.mark.parametrize("mode", ["RGBA", "P", "L"])
def test_pngs_with_transparency_palette_or_grey_get_a_jpeg_thumbnail(customer_world, mode):
    photo = upload(png_bytes(64, 48, mode=mode), name="shelf.png", content_type="image/png")

    visit = log_visit(customer_world["c_th"], customer_world["am_th"], photo=photo)

    thumbnail = _open_image(visit.photo_thumbnail.name)
    # small photos are not enlarged
    assert (thumbnail.format, thumbnail.size) == ("JPEG", (64, 48))


@pytest.mark.parametrize(
    "photo",
    [
        pytest.param(lambda: upload(gif_bytes(), "cat.gif", "image/gif"), id="gif"),
        pytest.param(lambda: upload(b"not a photo at all\n" * 20, "shelf.jpg"), id="text-as-jpg"),
        pytest.param(lambda: upload(jpeg_bytes()[:200], "cut.jpg"), id="truncated-jpeg"),
    ],
)
def test_a_file_that_is_not_a_jpeg_or_png_is_refused_and_nothing_stored(customer_world, photo):
    before = stored_files()
    error = refused(
        customer_world["c_th"],
        customer_world["am_th"],
        photo=photo(),
        follow_ups=[{"action": "Call back", "due_date": today()}],
    )
    assert "photo" in error.errors
    nothing_stored(before)


def test_a_photo_over_the_size_limit_is_refused(customer_world, configure):
    configure(photo_max_mb=1)
    noise = png_bytes(800, 800, noise=True)  # random pixels: about 1.9 MB
    assert len(noise) > 1024 * 1024
    before = stored_files()

    error = refused(customer_world["c_th"], customer_world["am_th"], photo=upload(noise, "big.png"))

    assert "photo" in error.errors
    nothing_stored(before)
    # the same photo under a 5 MB limit is fine
    configure(photo_max_mb=5)
    log_visit(customer_world["c_th"], customer_world["am_th"], photo=upload(noise, "big.png"))
    assert Visit.objects.count() == 1


def test_a_photo_with_refused_fields_stores_nothing(customer_world):
    before = stored_files()
    error = refused(
        customer_world["c_th"], customer_world["am_th"], purpose="", photo=upload(jpeg_bytes())
    )
    assert set(error.errors) == {"purpose"}
    nothing_stored(before)


def test_a_failure_after_the_photo_was_stored_removes_it(customer_world, monkeypatch):
    # given: something inside the transaction fails after the files were written
    def broken(**kwargs):
        raise RuntimeError("audit table unavailable")

    monkeypatch.setattr(services, "audit_record", broken)
    before = stored_files()

    with pytest.raises(RuntimeError):
        log_visit(
            customer_world["c_th"],
            customer_world["am_th"],
            photo=upload(jpeg_bytes()),
            follow_ups=[{"action": "Call back", "due_date": today()}],
        )

    nothing_stored(before)


# --- the planned visit a visit fulfils -----------------------------------------------------


def test_the_plan_the_visit_was_started_from_is_done(customer_world):
    w = customer_world
    # two open plans; the visit is started from the farther one
    near = make_plan(w["c_th"], today(), cycle_days=30)
    chosen = make_plan(w["c_th"], today() + days(3), cycle_days=30, rescheduled_from=today())

    visit = log_visit(w["c_th"], w["am_th"], plan=chosen)

    chosen.refresh_from_db()
    assert (chosen.status, chosen.visit, chosen.updated_by) == (PlanStatus.DONE, visit, w["am_th"])
    assert visit.plan == chosen
    # the other falls inside the new visit's cycle: the plan no longer asks for it
    assert not PlannedVisit.objects.filter(pk=near.pk, status=PlanStatus.PLANNED).exists()


def test_without_a_plan_the_nearest_open_one_within_a_cycle_is_done(customer_world):
    w = customer_world
    # moved by a person, so the planning that follows the visit leaves the others alone
    older = make_plan(w["c_th"], today() - days(3), rescheduled_from=today() - days(5))
    nearest = make_plan(w["c_th"], today() + days(1), rescheduled_from=today())

    visit = log_visit(w["c_th"], w["am_th"])

    nearest.refresh_from_db()
    older.refresh_from_db()
    assert (nearest.status, nearest.visit) == (PlanStatus.DONE, visit)
    # the overdue one is not done by this visit, but the visit has overtaken it: missed
    assert (older.status, older.visit) == (PlanStatus.MISSED, None)


def test_a_plan_more_than_a_cycle_away_is_not_done_by_the_visit(customer_world):
    w = customer_world
    later = make_plan(w["c_th"], today() + days(10), rescheduled_from=today() + days(3))

    visit = log_visit(w["c_th"], w["am_th"])

    later.refresh_from_db()
    assert (later.status, later.visit) == (PlanStatus.PLANNED, None)
    assert not PlannedVisit.objects.filter(visit=visit).exists()


def test_another_customers_plan_or_a_closed_plan_is_not_taken(customer_world):
    w = customer_world
    other = make_plan(w["c_th2"], today())
    skipped = make_plan(w["c_th"], today(), status=PlanStatus.SKIPPED)

    log_visit(w["c_th"], w["am_th"], plan=other)
    log_visit(w["c_th"], w["am_th"], plan=skipped)

    other.refresh_from_db()
    skipped.refresh_from_db()
    assert (other.status, other.visit) == (PlanStatus.PLANNED, None)
    assert (skipped.status, skipped.visit) == (PlanStatus.SKIPPED, None)


# --- duplicate drafts ----------------------------------------------------------------------


def test_the_same_draft_sent_twice_is_stored_once(customer_world):
    w = customer_world
    draft = uuid.uuid4()
    first = log_visit(
        w["c_th"],
        w["am_th"],
        client_id=draft,
        photo=upload(jpeg_bytes()),
        follow_ups=[{"action": "Bring posters", "due_date": today() + days(2)}],
    )
    files = stored_files()

    # the connection dropped; the browser sends the draft again (its id as text)
    with pytest.raises(services.DuplicateVisit) as error:
        log_visit(
            w["c_th"],
            w["am_th"],
            client_id=str(draft),
            photo=upload(jpeg_bytes()),
            follow_ups=[{"action": "Bring posters", "due_date": today() + days(2)}],
        )

    assert error.value.visit == first
    assert "client_id" in error.value.errors
    assert isinstance(error.value, DomainError)
    assert list(Visit.objects.values_list("pk", "client_id")) == [(first.pk, draft)]
    assert FollowUp.objects.count() == 1
    assert stored_files() == files


def test_a_resent_draft_is_recognised_even_when_its_fields_would_now_be_refused(customer_world):
    w = customer_world
    draft = uuid.uuid4()
    first = log_visit(w["c_th"], w["am_th"], client_id=draft)
    with pytest.raises(services.DuplicateVisit) as error:
        log_visit(w["c_th"], w["am_th"], client_id=draft, purpose="")
    assert error.value.visit == first


def test_the_same_draft_id_from_another_person_is_another_draft(customer_world):
    w = customer_world
    draft = uuid.uuid4()
    log_visit(w["c_th"], w["am_th"], client_id=draft)

    second = log_visit(w["c_th"], w["sup_th"], client_id=draft)

    assert second.visited_by == w["sup_th"]
    assert Visit.objects.filter(client_id=draft).count() == 2


def test_visits_without_a_draft_id_are_never_duplicates(customer_world):
    w = customer_world
    log_visit(w["c_th"], w["am_th"], client_id=None)
    log_visit(w["c_th"], w["am_th"], client_id="")
    assert Visit.objects.count() == 2


def test_a_draft_id_that_is_not_a_uuid_is_refused(customer_world):
    error = refused(customer_world["c_th"], customer_world["am_th"], client_id="draft-1")
    assert error.field == "client_id"
    assert "client_id" in error.errors
    assert not isinstance(error, services.DuplicateVisit)
    assert Visit.objects.count() == 0


# --- follow-ups ----------------------------------------------------------------------------


def test_follow_ups_are_stored_with_the_actor_as_default_owner(customer_world):
    w = customer_world
    visit = log_visit(
        w["c_th"],
        w["am_th"],
        visited_at=at(2),
        follow_ups=[
            {"action": "  Bring the new price list ", "due_date": today() - days(2)},
            {"action": "Check the licence", "due_date": today() + days(5), "owner": w["sup_th"]},
            {"action": "", "due_date": None},  # an empty row of the form
            {},
        ],
    )

    rows = list(visit.follow_ups.order_by("due_date"))
    assert [(f.action, f.due_date, f.owner, f.status, f.customer) for f in rows] == [
        ("Bring the new price list", today() - days(2), w["am_th"], FollowUpStatus.OPEN, w["c_th"]),
        ("Check the licence", today() + days(5), w["sup_th"], FollowUpStatus.OPEN, w["c_th"]),
    ]
    audit = AuditEntry.objects.get(
        content_type=ContentType.objects.get_for_model(Visit), object_id=str(visit.pk)
    )
    assert audit.new_value["follow_ups"] == 2


@pytest.mark.parametrize(
    "item",
    [
        {"action": "Call", "due_date": "before the visit"},
        {"action": "", "due_date": "tomorrow"},  # a date but nothing to do
        {"action": "Call"},  # something to do but no date
        {"action": "Call", "due_date": "2026-12-01"},  # text, not a date
        {"action": "Call", "due_date": "a datetime"},
        {"action": "x" * 301, "due_date": "tomorrow"},
        {"action": "Call", "due_date": "tomorrow", "owner": "am_th2"},  # not his customer
        {"action": "Call", "due_date": "tomorrow", "owner": "sup_yx"},  # another area
        {"action": "Call", "due_date": "tomorrow", "owner": "erp"},  # not a person
        {"action": "Call", "due_date": "tomorrow", "owner": "gone"},  # inactive
        {"action": "Call", "due_date": "tomorrow", "owner": "name:am_th"},  # a name, not a user
    ],
)
def test_a_follow_up_is_checked(customer_world, make_user, areas, item):
    w = customer_world
    people = {
        **w,
        "erp": make_user(Role.INTEGRATION_CLIENT, username="erp"),
        "gone": make_user(Role.SUPERVISOR, [areas["TH"]], username="gone", is_active=False),
    }
    dates = {
        "before the visit": today() - days(2),  # the visit was yesterday
        "tomorrow": today() + days(1),
        "a datetime": timezone.now() + days(1),
    }
    row = dict(item)
    if "due_date" in row:
        row["due_date"] = dates.get(row["due_date"], row["due_date"])
    if "owner" in row:
        owner = row["owner"]
        row["owner"] = owner.removeprefix("name:") if owner.startswith("name:") else people[owner]

    error = refused(w["c_th"], w["am_th"], visited_at=at(1), follow_ups=[row])

    assert "follow_ups" in error.errors
    assert Visit.objects.count() == 0


def test_a_follow_up_due_on_the_visits_day_is_fine(customer_world):
    visit = log_visit(
        customer_world["c_th"],
        customer_world["am_th"],
        visited_at=at(3),
        follow_ups=[{"action": "Call", "due_date": today() - days(3)}],
    )
    assert visit.follow_ups.count() == 1


def test_at_most_ten_follow_ups(customer_world):
    w = customer_world
    rows = [{"action": f"Task {n}", "due_date": today()} for n in range(11)]

    error = refused(w["c_th"], w["am_th"], follow_ups=rows)
    assert "follow_ups" in error.errors
    assert Visit.objects.count() == 0

    visit = log_visit(w["c_th"], w["am_th"], follow_ups=rows[:10] + [{}, {}])
    assert visit.follow_ups.count() == 10


def test_each_refused_follow_up_is_named(customer_world):
    w = customer_world
    error = refused(
        w["c_th"],
        w["am_th"],
        follow_ups=[
            {"action": "Fine", "due_date": today()},
            {"action": "", "due_date": today()},
            {"action": "No date"},
        ],
    )
    assert len(error.errors["follow_ups"]) == 2
    assert "2" in error.errors["follow_ups"][0]
    assert "3" in error.errors["follow_ups"][1]


@pytest.fixture
def follow_up(customer_world):
    """An open follow-up on c_th owned by the licence officer (not a manager of it)."""
    w = customer_world
    visit = log_visit(
        w["c_th"],
        w["am_th"],
        follow_ups=[{"action": "Check the licence", "due_date": today(), "owner": w["lo_th"]}],
    )
    return visit.follow_ups.get()


@pytest.mark.parametrize("who", ["lo_th", "am_th", "sup_th", "sup_gz", "admin"])
def test_the_owner_the_account_manager_or_a_supervisor_completes_a_follow_up(
    customer_world, follow_up, who
):
    person = customer_world[who]

    done = services.follow_up_complete(
        follow_up=follow_up, note="  Licence seen, valid  ", actor=actor(person)
    )

    assert (done.status, done.done_note, done.done_by) == (
        FollowUpStatus.DONE,
        "Licence seen, valid",
        person,
    )
    assert done.done_at is not None
    [row] = AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(FollowUp), object_id=str(follow_up.pk)
    )
    assert (row.actor, row.field, row.old_value, row.new_value, row.reason) == (
        person,
        "status",
        "open",
        "done",
        "Licence seen, valid",
    )


@pytest.mark.parametrize("who", ["am_th2", "am_yx", "sup_yx"])
def test_people_who_do_not_look_after_the_customer_cannot_complete_it(
    customer_world, follow_up, who
):
    with pytest.raises(DomainError):
        services.follow_up_complete(
            follow_up=follow_up, note="Done", actor=actor(customer_world[who])
        )
    follow_up.refresh_from_db()
    assert follow_up.status == FollowUpStatus.OPEN


def test_a_licence_officer_who_does_not_own_it_cannot_complete_it(customer_world, make_user, areas):
    other_officer = make_user(Role.LICENSE_OFFICER, [areas["TH"]], username="lo_th_other")
    w = customer_world
    visit = log_visit(w["c_th"], w["am_th"], follow_ups=[{"action": "Call", "due_date": today()}])
    with pytest.raises(DomainError):
        services.follow_up_complete(
            follow_up=visit.follow_ups.get(), note="Done", actor=actor(other_officer)
        )


def test_completing_needs_a_note_and_happens_once(customer_world, follow_up):
    am = customer_world["am_th"]
    with pytest.raises(DomainError) as error:
        services.follow_up_complete(follow_up=follow_up, note="  ", actor=actor(am))
    assert "note" in error.value.errors
    follow_up.refresh_from_db()
    assert follow_up.status == FollowUpStatus.OPEN

    services.follow_up_complete(follow_up=follow_up, note="Done", actor=actor(am))
    with pytest.raises(DomainError):
        services.follow_up_complete(follow_up=follow_up, note="Done again", actor=actor(am))
    follow_up.refresh_from_db()
    assert (follow_up.done_note, follow_up.done_by) == ("Done", am)


def test_follow_up_list_shows_open_ones_and_overdue_only_on_request(customer_world):
    w = customer_world
    visit = log_visit(
        w["c_th"],
        w["am_th"],
        visited_at=at(3),
        follow_ups=[
            {"action": "Overdue", "due_date": today() - days(1)},
            {"action": "Due today", "due_date": today()},
            {"action": "Later", "due_date": today() + days(4)},
            {"action": "Supervisor's", "due_date": today() - days(2), "owner": w["sup_th"]},
            {"action": "Finished", "due_date": today() - days(3)},
        ],
    )
    finished = visit.follow_ups.get(action="Finished")
    services.follow_up_complete(follow_up=finished, note="ok", actor=actor(w["am_th"]))
    log_visit(
        w["c_yx"],
        w["am_yx"],
        visited_at=at(3),
        follow_ups=[{"action": "Elsewhere", "due_date": today() - days(1)}],
    )

    def actions(**kwargs):
        return [f.action for f in selectors.follow_up_list(**kwargs)]

    assert actions(user=w["am_th"]) == ["Supervisor's", "Overdue", "Due today", "Later"]
    assert actions(user=w["am_th"], owner=w["am_th"]) == ["Overdue", "Due today", "Later"]
    assert actions(user=w["am_th"], owner=w["am_th"], overdue_only=True) == ["Overdue"]
    assert actions(user=w["sup_th"], overdue_only=True) == ["Supervisor's", "Overdue"]
    assert actions(user=w["sup_gz"], overdue_only=True) == ["Supervisor's", "Overdue", "Elsewhere"]
    assert actions(user=w["am_th2"]) == []


def test_earlier_today_is_today_and_past(db):
    # the helper the tests above lean on
    moment = earlier_today()
    assert timezone.localdate(moment) == today()
    assert moment <= timezone.now()
    assert visit_data()["visited_at"] <= timezone.now()
