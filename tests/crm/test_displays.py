"""crm.displays.ChoiceDisplays: `get_FOO_display()` answers as Django's, in the language active
when it is called (the label map is kept per field, its labels stay lazy)."""

from django.utils import translation

from services.choices import Priority, RequestStatus
from services.models import ServiceRequest


def test_a_display_is_the_label_in_the_active_language_each_time():
    item = ServiceRequest(status=RequestStatus.OPEN, priority=Priority.URGENT)
    with translation.override("en"):
        english = item.get_status_display()
        assert english == "Open"
        assert item.get_priority_display() == str(Priority.URGENT.label)
    with translation.override("zh-hans"):
        chinese = item.get_status_display()
        assert chinese == str(RequestStatus.OPEN.label)
        assert chinese != english
    with translation.override("en"):  # the first language is not kept
        assert item.get_status_display() == english


def test_a_value_that_is_no_choice_is_shown_as_it_is():
    assert ServiceRequest(status="archived").get_status_display() == "archived"
    assert ServiceRequest(status=None).get_status_display() is None
