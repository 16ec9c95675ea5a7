"""Placeholder until the overrides pages land (replaced in this branch)."""

urlpatterns: list = []
