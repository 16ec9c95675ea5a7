"""An audit answer's photo, after the scope check (as a visit's photo: crm.uploads)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse

from audits import selectors
from crm import uploads
from crm.views import people_only

# The URL's kind → the answer's file field (the names a visit's photo view uses too).
PHOTO_KINDS = {"full": "photo", "thumb": "photo_thumbnail"}


@people_only
def answer_photo(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    """An answer's photo or thumbnail: 404 for another kind, an answer without a photo, or
    one whose shop lies outside the user's scope (photos have no public address)."""
    if kind not in PHOTO_KINDS:
        raise Http404
    answer = selectors.answer_get(user=request.user, pk=pk)
    return uploads.file_response(
        getattr(answer, PHOTO_KINDS[kind]), download_name=f"audit-answer-{answer.pk}-{kind}"
    )
