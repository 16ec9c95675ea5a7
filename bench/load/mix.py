"""Choices the load test's account managers make that profile_pages.py repeats (shared by both,
as visit_form.py is; locustfile.py imports locust, which profile_pages.py's venv has not).

The customer page draws its overview; a visit opens one other tab every other time (the share:
LOAD_TAB_SHARE, default 0.5), the visits and the sales most often (a guess: an account manager
at the door checks the last visits and what the shop ordered)."""

import os

TAB_OPENED = float(os.environ.get("LOAD_TAB_SHARE", "0.5"))
TABS = ("visits", "sales", "grade-value", "information", "services", "history")
TAB_WEIGHTS = (4, 3, 2, 2, 1, 1)
