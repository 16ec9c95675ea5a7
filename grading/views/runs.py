"""Placeholder until the runs pages land (replaced in this branch)."""

urlpatterns: list = []
