"""Published grade months for the allocation API tests: a plan reads the grades of its start
month only once the month is published. Grades themselves: `tests.grading.factories.make_grade`."""

from tests.allocation.factories import publish


def publish_month(month, by=None):
    return publish(month, user=by)
