"""Grading's own pages, one module per part: the overview's panels and export, the scheme
pages' readable rules, preview and peak months, and overrides (with the customer card's
forms). The overview, runs and scheme pages themselves are the engine's (`crm.monthly_views`,
declared in `grading/monthly.py`); `grading/urls.py` joins them."""
