"""Grading pages, one module per part: the overview (with its export), runs, schemes (with
peak months and the draft preview) and overrides (with the customer card's forms). Each
module declares its `urlpatterns`; `grading/urls.py` joins them."""
