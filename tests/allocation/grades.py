"""Published grade months for the allocation API tests: a plan reads the grades of its start
month only once the month is published (`GradePublication`; the grading app's own tests cover
how a month gets there). Grades themselves: `tests.grading.factories.make_grade`."""

from __future__ import annotations

import datetime as dt

from grading.models import GradePublication


def publish_month(month: dt.date, by=None) -> GradePublication:
    return GradePublication.objects.create(month=month, published_by=by)
