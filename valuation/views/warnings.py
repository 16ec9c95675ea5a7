"""Placeholder until the page lands (this branch only)."""

urlpatterns: list = []
