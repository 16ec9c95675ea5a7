"""The visit form (plain post and the fetch() path its script uses), the visit page and its
photo, the visit list."""

import datetime as dt
import io
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from crm.choices import AuditSource
from crm.services import Actor
from customers import policies as customer_policies
from customers.catalogue import Category
from tests.crm import upload_files
from tests.customers.factories import make_customer
from tests.visits.factories import stored_files
from visits import services
from visits.choices import FollowUpStatus, PlanStatus
from visits.models import FollowUp, PlannedVisit, Visit, VisitsConfig

FETCH = {"HTTP_X_REQUESTED_WITH": "fetch"}


def image_bytes(kind="JPEG", size=(64, 48)):
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format=kind)
    return out.getvalue()


def photo_upload(
    kind="JPEG", name="shelf.jpg", content_type="image/jpeg", data=None, size=(64, 48)
):
    return SimpleUploadedFile(name, data or image_bytes(kind, size), content_type=content_type)


def local(moment):
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def visit_data(owner=None, **overrides):
    now = timezone.now()
    today = timezone.localdate()
    data = {
        "visited_at": local(now - dt.timedelta(minutes=40)),
        "ended_at": local(now - dt.timedelta(minutes=5)),
        "visit_type": "routine",
        "purpose": "Monthly check",
        "stock_level": "low",
        "stock_notes": "Short of 红双喜",
        "price_display": "non_compliant",
        "competitor_notes": "Competitor posters at the till",
        "customer_requests": "",
        "latitude": "",
        "longitude": "",
        "location_accuracy_m": "",
        "client_id": str(uuid.uuid4()),
        "fu0-action": "Bring the price tags",
        "fu0-due_date": (today + dt.timedelta(days=3)).isoformat(),
    }
    if owner is not None:
        data["fu0-owner"] = str(owner.pk)
    data.update(overrides)
    return data


def log_url(customer, plan=None):
    url = f"{reverse('visits:log')}?customer={customer.customer_code}"
    return f"{url}&plan={plan.pk}" if plan else url


@pytest.fixture
def shop(customer_world):
    """am_th's shop with a recorded position."""
    return make_customer(
        "TH",
        customer_world["am_th"],
        store_name="坐标烟酒店",
        address="天河路 1 号",
        latitude="23.130000",
        longitude="113.320000",
    )


# --- the form ------------------------------------------------------------------------------


def test_the_form_is_ready_for_a_phone(client, customer_world, shop):
    # given
    am = customer_world["am_th"]
    client.force_login(am)
    # when
    response = client.get(log_url(shop))
    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert 'type="datetime-local"' in html
    assert 'accept="image/jpeg,image/png"' in html
    assert 'capture="environment"' in html
    assert 'data-shop-lat="23.130000"' in html
    assert f'data-radius="{VisitsConfig.current().location_radius_m}"' in html
    assert f'data-draft-key="crm-visit-draft:{am.pk}:{shop.customer_code}"' in html
    form = response.context["form"]
    assert form["client_id"].value()  # a draft id from the start (the page keeps it)
    # The follow-up owner is the user by default.
    assert response.context["follow_up_rows"][0]["owner"].value() == am.pk
    # "Something here is wrong": the fields the user may change, the change page, a reason.
    fields = customer_policies.changeable_fields(am, shop)
    assert fields
    assert f'action="{reverse("customers:change", args=[shop.customer_code])}"' in html
    assert f'<option value="{fields[0].name}">' in html
    assert f"Seen on the visit of {timezone.localdate().isoformat()}: " in html


def test_without_a_customer_the_picker_lists_own_customers(client, customer_world, shop):
    client.force_login(customer_world["am_th"])

    response = client.get(reverse("visits:log"))
    names = [c.store_name for c in response.context["customers"]]
    assert set(names) == {"天河一号店", "坐标烟酒店"}  # not am_th2's shop in the same area

    response = client.get(reverse("visits:log"), {"q": "坐标"})
    assert [c.customer_code for c in response.context["customers"]] == [shop.customer_code]
    assert f"?customer={shop.customer_code}" in response.content.decode()


def test_a_visit_is_logged_with_findings_follow_up_photo_and_position(client, customer_world, shop):
    # given: today's planned visit, started from the agenda
    am = customer_world["am_th"]
    plan = PlannedVisit.objects.create(
        customer=shop, planned_for=timezone.localdate(), cycle_days=30
    )
    client.force_login(am)
    data = visit_data(
        owner=am,
        latitude="23.140000",  # about 1.1 km north of the shop
        longitude="113.320000",
        location_accuracy_m="12.5",
        photo=photo_upload(size=(1200, 900)),
    )
    # when
    response = client.post(log_url(shop, plan), data)
    # then
    visit = Visit.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("visits:detail", args=[visit.pk])
    assert visit.visited_by == am
    assert visit.price_display == "non_compliant"
    assert visit.competitor_notes == "Competitor posters at the till"
    # The form's wall-clock time is read in the site's time zone (Asia/Shanghai by default).
    assert timezone.localtime(visit.visited_at).strftime("%Y-%m-%dT%H:%M") == data["visited_at"]
    assert visit.location_flagged and 1000 < visit.distance_m < 1200
    assert visit.photo and visit.photo_thumbnail
    follow_up = FollowUp.objects.get()
    assert (follow_up.action, follow_up.owner) == ("Bring the price tags", am)
    plan.refresh_from_db()
    assert (plan.status, plan.visit) == (PlanStatus.DONE, visit)

    page = client.get(response["Location"])
    html = page.content.decode()
    assert "The visit was saved." in html
    assert "Not compliant" in html
    assert "Bring the price tags" in html
    assert 'data-testid="visit-distance"' in html
    assert "35 minutes" in html
    assert reverse("visits:photo", args=[visit.pk, "thumb"]) in html
    assert f"day={plan.planned_for.isoformat()}" in html  # the plan it fulfilled

    thumb = client.get(reverse("visits:photo", args=[visit.pk, "thumb"]))
    assert thumb.status_code == 200
    assert thumb["Content-Type"] == "image/jpeg"
    with Image.open(io.BytesIO(b"".join(thumb.streaming_content))) as image:
        assert max(image.size) <= 480
    full = client.get(reverse("visits:photo", args=[visit.pk, "full"]))
    assert full["Content-Type"] == "image/jpeg"
    with Image.open(io.BytesIO(b"".join(full.streaming_content))) as image:
        assert image.size == (1200, 900)


def test_a_png_photo_is_served_as_png(client, customer_world, shop):
    client.force_login(customer_world["am_th"])
    client.post(log_url(shop), visit_data(photo=photo_upload("PNG", "a.png", "image/png")))
    visit = Visit.objects.get()
    assert client.get(reverse("visits:photo", args=[visit.pk, "full"]))["Content-Type"] == (
        "image/png"
    )


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"visited_at": "2999-01-01T10:00"},
            "visited_at",
            "The time of arrival cannot be in the future.",
        ),
        ({"visited_at": "yesterday"}, "visited_at", "Enter a valid date/time."),
        (
            {"ended_at": local(timezone.now() - dt.timedelta(hours=3))},
            "ended_at",
            "The time of leaving is before the time of arrival.",
        ),
        ({"purpose": ""}, "purpose", "Say what the visit was for."),
    ],
)
def test_refused_values_are_shown_on_their_field(
    client, customer_world, shop, overrides, field, message
):
    client.force_login(customer_world["am_th"])

    response = client.post(log_url(shop), visit_data(**overrides))

    assert response.status_code == 200
    assert message in response.context["form"].errors[field]
    html = response.content.decode()
    assert f'data-testid="error-{field}"' in html
    assert 'data-bound="true"' in html  # the script does not put an old draft over it
    assert not Visit.objects.exists()


def test_follow_up_refusals_are_shown_above_the_follow_ups(client, customer_world, shop):
    client.force_login(customer_world["am_th"])
    data = visit_data()
    # the day before the visit's (not today's: just after midnight the visit was yesterday)
    visit_day = dt.datetime.fromisoformat(data["visited_at"]).date()
    before = (visit_day - dt.timedelta(days=1)).isoformat()

    response = client.post(log_url(shop), {**data, "fu0-due_date": before})

    assert response.context["follow_up_errors"] == ["Follow-up 1: due before the visit."]
    assert 'data-testid="error-follow_ups"' in response.content.decode()
    assert not Visit.objects.exists()


def test_a_follow_up_goes_to_one_of_the_people_offered_the_same_in_every_row(
    client, customer_world, shop
):
    people = customer_world
    client.force_login(people["am_th"])

    # given: the rows offer the shop's account manager and the supervisors of its areas
    rows = client.get(log_url(shop)).context["follow_up_rows"]
    offered = {pk for pk, _name in rows[0].fields["owner"].choices}
    assert offered == {people[key].pk for key in ("am_th", "sup_th", "sup_th2", "sup_gz")}
    assert all(row.fields["owner"].choices == rows[0].fields["owner"].choices for row in rows)

    # when: a row is given to a supervisor, the other rows posted empty with their owner
    data = visit_data(owner=people["sup_th"])
    data.update({"fu1-owner": str(people["am_th"].pk), "fu2-owner": str(people["am_th"].pk)})
    client.post(log_url(shop), data)
    # then
    follow_up = FollowUp.objects.get()
    assert (follow_up.action, follow_up.owner) == ("Bring the price tags", people["sup_th"])

    # when: a row is given to someone not offered (another account manager)
    response = client.post(log_url(shop), visit_data(owner=people["am_th2"]))
    # then: refused on that row, nothing stored
    assert response.status_code == 200
    assert response.context["follow_up_rows"][0].errors["owner"]
    assert FollowUp.objects.count() == 1


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (
            lambda: photo_upload("GIF", "a.gif", "image/gif"),
            "Send a JPEG or PNG file (judged by its content, not its name).",
        ),
        (
            # Named and typed as a JPEG, but it is not one: judged by its content.
            lambda: SimpleUploadedFile("a.jpg", b"not an image", content_type="image/jpeg"),
            "Send a JPEG or PNG file (judged by its content, not its name).",
        ),
        (
            # A real JPEG made larger than the limit (1 MB here).
            lambda: photo_upload(data=image_bytes() + b"\0" * (1024 * 1024)),
            "The file is larger than 1 MB.",
        ),
        (
            # Cut short in transfer: it opened and verified, then failed to shrink (a 500).
            lambda: photo_upload(data=upload_files.truncated_jpeg()),
            "The JPEG file is damaged or incomplete: send it again.",
        ),
        (
            # Spoiled pixel data under right checksums: verify() passes it.
            lambda: photo_upload(data=upload_files.corrupt_png(), name="a.png"),
            "The PNG file is damaged or incomplete: send it again.",
        ),
    ],
    ids=["gif", "text-as-jpeg", "too-large", "truncated-jpeg", "corrupt-png"],
)
def test_photos_of_the_wrong_type_too_large_or_damaged_are_refused(
    client, customer_world, shop, upload, message
):
    VisitsConfig.objects.update_or_create(pk=1, defaults={"photo_max_mb": 1})
    client.force_login(customer_world["am_th"])
    before = stored_files()

    response = client.post(log_url(shop), visit_data(photo=upload()))

    assert response.status_code == 200
    assert message in response.context["form"].errors["photo"]
    assert not Visit.objects.exists()
    assert stored_files() == before


def test_a_customer_outside_the_scope_is_not_found(client, customer_world):
    client.force_login(customer_world["am_th"])
    other = customer_world["c_th2"]

    assert client.get(log_url(other)).status_code == 404
    assert client.post(log_url(other), visit_data()).status_code == 404
    assert not Visit.objects.exists()


def test_a_plan_of_another_customer_is_not_found(client, customer_world, shop):
    plan = PlannedVisit.objects.create(
        customer=customer_world["c_th"], planned_for=timezone.localdate(), cycle_days=30
    )
    client.force_login(customer_world["am_th"])

    assert client.get(log_url(shop, plan)).status_code == 404


def test_the_same_draft_sent_twice_is_stored_once(client, customer_world, shop):
    client.force_login(customer_world["am_th"])
    data = visit_data()

    first = client.post(log_url(shop), data)
    second = client.post(log_url(shop), data, follow=True)

    visit = Visit.objects.get()
    assert first["Location"] == reverse("visits:detail", args=[visit.pk])
    assert second.redirect_chain == [(reverse("visits:detail", args=[visit.pk]), 302)]
    html = second.content.decode()
    assert "This visit was saved already" in html
    assert "alert-info" in html
    assert FollowUp.objects.count() == 1


# --- the fetch() path of the form's script -------------------------------------------------


def test_fetch_saved_duplicate_and_refused_answers(client, customer_world, shop):
    client.force_login(customer_world["am_th"])
    data = visit_data()

    saved = client.post(log_url(shop), data, **FETCH)
    visit = Visit.objects.get()
    assert saved.status_code == 200
    assert saved.json() == {
        "status": "saved",
        "redirect": reverse("visits:detail", args=[visit.pk]),
    }

    # The connection dropped before the answer came back: the page sends the draft again.
    again = client.post(log_url(shop), data, **FETCH)
    assert again.json()["status"] == "duplicate"
    assert again.json()["redirect"] == reverse("visits:detail", args=[visit.pk])
    assert Visit.objects.count() == 1

    refused = client.post(
        log_url(shop),
        visit_data(purpose="", **{"fu0-due_date": "2000-01-01"}),
        **FETCH,
    )
    assert refused.status_code == 400
    body = refused.json()
    assert body["status"] == "invalid"
    assert body["errors"]["purpose"] == ["Say what the visit was for."]
    assert body["errors"]["follow_ups"] == ["Follow-up 1: due before the visit."]
    assert 'data-testid="error-purpose"' in body["html"]
    assert "<form" not in body["html"]  # the form's content only, for the page to put in
    assert Visit.objects.count() == 1


def test_fetch_reports_a_bad_time_as_a_field_error(client, customer_world, shop):
    client.force_login(customer_world["am_th"])

    refused = client.post(log_url(shop), visit_data(visited_at="tomorrow"), **FETCH)

    assert refused.status_code == 400
    assert list(refused.json()["errors"]) == ["visited_at"]


# --- the visit page and its photo ----------------------------------------------------------


def _logged(customer, user, **data):
    today = timezone.localdate()
    return services.visit_log(
        customer=customer,
        data={
            "visited_at": timezone.now() - dt.timedelta(minutes=10),
            "visit_type": "routine",
            "purpose": "Check",
            **data,
        },
        actor=Actor.of(user, AuditSource.PAGE),
        follow_ups=[{"action": "Call back", "due_date": today + dt.timedelta(days=1)}],
        photo=photo_upload(),
    )


def test_the_photo_is_not_found_outside_the_scope(client, customer_world):
    visit = _logged(customer_world["c_th"], customer_world["am_th"])

    client.force_login(customer_world["am_th2"])
    assert client.get(reverse("visits:photo", args=[visit.pk, "thumb"])).status_code == 404
    assert client.get(reverse("visits:photo", args=[visit.pk, "full"])).status_code == 404
    assert client.get(reverse("visits:detail", args=[visit.pk])).status_code == 404

    client.force_login(customer_world["sup_th"])
    assert client.get(reverse("visits:photo", args=[visit.pk, "thumb"])).status_code == 200
    assert client.get(reverse("visits:photo", args=[visit.pk, "other"])).status_code == 404


def test_a_visit_without_photo_has_no_photo(client, customer_world):
    visit = services.visit_log(
        customer=customer_world["c_th"],
        data={"visited_at": timezone.now(), "visit_type": "service", "purpose": "Fix the sign"},
        actor=Actor.of(customer_world["am_th"], AuditSource.PAGE),
    )
    client.force_login(customer_world["am_th"])

    assert client.get(reverse("visits:photo", args=[visit.pk, "full"])).status_code == 404
    html = client.get(reverse("visits:detail", args=[visit.pk])).content.decode()
    assert "No findings recorded." in html
    assert "No position shared." in html


def test_a_follow_up_is_marked_done_from_the_visit_page(client, customer_world):
    visit = _logged(customer_world["c_th"], customer_world["am_th"])
    follow_up = visit.follow_ups.get()
    client.force_login(customer_world["am_th"])
    page = reverse("visits:detail", args=[visit.pk])
    assert 'data-testid="follow-up-done-form"' in client.get(page).content.decode()

    # A note is required.
    response = client.post(
        reverse("visits:follow_up_done", args=[follow_up.pk]), {"note": " ", "next": page}
    )
    assert response["Location"] == page
    follow_up.refresh_from_db()
    assert follow_up.status == FollowUpStatus.OPEN

    response = client.post(
        reverse("visits:follow_up_done", args=[follow_up.pk]),
        {"note": "Called, all fine", "next": page},
        follow=True,
    )
    follow_up.refresh_from_db()
    assert (follow_up.status, follow_up.done_note) == (FollowUpStatus.DONE, "Called, all fine")
    assert "The follow-up is done." in response.content.decode()


def test_the_follow_up_form_is_offered_only_to_who_may_complete(client, customer_world):
    visit = _logged(customer_world["c_th"], customer_world["am_th"])
    client.force_login(customer_world["lo_th"])

    html = client.get(reverse("visits:detail", args=[visit.pk])).content.decode()

    assert "Call back" in html
    assert 'data-testid="follow-up-done-form"' not in html


# --- the visit list ------------------------------------------------------------------------


def test_the_visit_list_is_scoped_and_filtered(client, customer_world):
    mine = _logged(customer_world["c_th"], customer_world["am_th"], visit_type="service")
    _logged(customer_world["c_th2"], customer_world["am_th2"])
    client.force_login(customer_world["am_th"])

    response = client.get(reverse("visits:list"))
    assert list(response.context["visits"]) == [mine]

    client.force_login(customer_world["sup_th"])
    assert len(client.get(reverse("visits:list")).context["visits"]) == 2
    filtered = client.get(reverse("visits:list"), {"visit_type": "service"})
    assert list(filtered.context["visits"]) == [mine]
    by_code = client.get(
        reverse("visits:list"), {"customer_code": customer_world["c_th2"].customer_code}
    )
    assert [v.customer for v in by_code.context["visits"]] == [customer_world["c_th2"]]


def test_the_visit_list_query_count_does_not_grow_with_rows(
    client, customer_world, django_assert_num_queries
):
    actor = Actor.of(customer_world["sup_th"], AuditSource.PAGE)
    for customer in (customer_world["c_th"], customer_world["c_th2"]) * 3:
        services.visit_log(
            customer=customer,
            data={"visited_at": timezone.now(), "visit_type": "routine", "purpose": "Round"},
            actor=actor,
        )
    client.force_login(customer_world["sup_th"])

    # session, user, the scope (their areas, the area tree), count, the page, notifications,
    # the area and person pickers' choices
    with django_assert_num_queries(9):
        response = client.get(reverse("visits:list"))
    assert len(response.context["visits"]) == 6


def test_the_visit_list_pages_by_their_keys_in_order_and_scope(client, customer_world, monkeypatch):
    """Every page, the first too, is fetched by its keys (visits.views.VisitPaginator: the keys
    from visits_visit_cust_seen_idx, then those rows): the pages together are the manager's
    visits newest first (ties by id), with no colleague's visit."""
    from visits.views.logging import VisitListView

    monkeypatch.setattr(VisitListView, "paginate_by", 2)
    actor = Actor.of(customer_world["sup_th"], AuditSource.PAGE)
    when = timezone.now().replace(microsecond=0)
    for customer, hours in [("c_th", 3), ("c_th", 1), ("c_th", 2), ("c_th", 2), ("c_th2", 1)]:
        services.visit_log(
            customer=customer_world[customer],
            data={
                "visited_at": when - dt.timedelta(hours=hours),
                "visit_type": "routine",
                "purpose": "Round",
            },
            actor=actor,
        )
    expected = list(
        Visit.objects.filter(customer=customer_world["c_th"])
        .order_by("-visited_at", "-id")
        .values_list("pk", flat=True)
    )
    assert len(expected) == 4
    client.force_login(customer_world["am_th"])
    seen = []
    for number in (1, 2):
        response = client.get(reverse("visits:list"), {"page": number})
        assert "IN (SELECT" in str(response.context["visits"].query)
        seen += [visit.pk for visit in response.context["visits"]]
    assert seen == expected
    assert not response.context["page_obj"].has_next()


# --- the form on a phone (issue 20) ----------------------------------------------------------


def test_the_form_has_check_buttons_stacked_times_and_no_new_tab(client, customer_world, shop):
    client.force_login(customer_world["am_th"])

    html = client.get(log_url(shop)).content.decode()

    # one-tap check-in / check-out next to their fields (shown by the script)
    assert 'data-check="in"' in html and 'data-check="out"' in html
    # the times: full width on a phone, side by side from 576 px
    assert html.count('class="col-12 col-sm-6 crm-visit-time"') == 2
    # no link or form opens a new tab ("Something here is wrong" included)
    assert "_blank" not in html


def test_which_information_is_wrong_is_grouped_by_category_and_sorted(client, customer_world, shop):
    am = customer_world["am_th"]
    client.force_login(am)

    response = client.get(log_url(shop))

    groups = response.context["changeable_groups"]
    changeable = customer_policies.changeable_fields(am, shop)
    # every field the user may change, once, in the catalogue's category order ...
    assert sorted(s.name for g in groups for s in g["fields"]) == sorted(s.name for s in changeable)
    order = [c.label for c in Category]
    labels = [str(g["label"]) for g in groups]
    assert labels == sorted(labels, key=order.index)
    # ... each category's fields sorted by their label
    for group in groups:
        names = [s.label.casefold() for s in group["fields"]]
        assert names == sorted(names)
    assert f'<optgroup label="{groups[0]["label"]}">' in response.content.decode()


def test_the_same_draft_with_its_photo_replayed_twice_is_stored_once(client, customer_world, shop):
    # As the phone's outbox sends a queued visit: multipart with the photo, by fetch().
    client.force_login(customer_world["am_th"])
    data = visit_data()

    first = client.post(log_url(shop), {**data, "photo": photo_upload()}, **FETCH)
    again = client.post(log_url(shop), {**data, "photo": photo_upload()}, **FETCH)

    visit = Visit.objects.get()
    assert (first.json()["status"], again.json()["status"]) == ("saved", "duplicate")
    assert again.json()["redirect"] == reverse("visits:detail", args=[visit.pk])
    assert visit.photo and visit.photo_thumbnail
    assert FollowUp.objects.count() == 1


@pytest.mark.parametrize(
    ("metres", "english", "chinese"),
    [(850, "850 m", "850 米"), (999.6, "1.0 km", "1.0 公里"), (1290, "1.3 km", "1.3 公里")],
)
def test_distances_read_in_km_above_1000_m(metres, english, chinese):
    from django.utils import translation

    from visits.templatetags.visits_tags import distance

    with translation.override("en"):
        assert distance(metres) == english
    with translation.override("zh-hans"):
        assert distance(metres) == chinese
    assert distance(None) == ""


# --- the audit forms due at the shop (issue 22) ------------------------------------------------


def test_the_form_page_reads_the_due_forms_in_a_fixed_number_of_queries(
    client, customer_world, shop, django_assert_num_queries
):
    from audits.choices import ProductScope, QuestionKind
    from tests.audits.factories import make_form
    from tests.orders.factories import make_product

    products = [make_product(code) for code in ("A", "B", "C")]
    listed = {"product_scope": ProductScope.LISTED, "products": products}
    for code in ("shelf", "prices"):
        make_form(
            code,
            [
                {"kind": QuestionKind.YES_NO},
                {"kind": QuestionKind.PRODUCT_SHELF, **listed},
                {"kind": QuestionKind.PRODUCT_PRICE, "price_unit": "pack", **listed},
            ],
        )
    VisitsConfig.current()  # the settings row exists (made on first read)
    client.force_login(customer_world["am_th"])

    # session, user, the customer, the area tree, the follow-up owners (read once for the three
    # rows' pickers: 6 queries fewer than a ModelChoiceField per row), the active forms, their
    # questions, their products, the visits settings, notifications
    with django_assert_num_queries(10):
        response = client.get(log_url(shop))

    html = response.content.decode()
    assert html.count('data-testid="audit-form-') == 2
    assert html.count('data-testid="audit-product-') == 6  # 2 forms × 3 products
