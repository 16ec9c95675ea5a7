"""Placeholder until the overview pages land (replaced in this branch)."""

urlpatterns: list = []
