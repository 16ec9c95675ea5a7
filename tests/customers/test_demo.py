"""The demo's likely duplicate: a second record of one of am_zhang's shops, its phone and
address typed differently, that the duplicates page pairs; a second run adds nothing."""

from io import StringIO

from django.core.management import call_command

from crm.models import User
from customers.models import Customer
from customers.selectors import duplicate_pairs


def test_seed_demo_makes_one_likely_duplicate_once(db, settings):
    settings.DEBUG = True
    out = StringIO()
    call_command("seed_demo", "--customers", "50", "--months", "2", stdout=out)
    assert "Duplicates:" in out.getvalue()
    supervisor = User.objects.get(username="sup_tianhe")  # am_zhang's supervisor
    pairs = duplicate_pairs(user=supervisor)
    listed = pairs[0 : pairs.count()]
    [pair] = [p for p in listed if p.second.customer_code.endswith("90000001")]
    assert pair.reasons == {"phone", "address", "name"}
    assert pair.first.dynamic.phone != pair.second.dynamic.phone  # typed differently

    count = Customer.objects.count()
    call_command("seed_demo", "--customers", "50", "--months", "2", stdout=StringIO())
    assert Customer.objects.count() == count
