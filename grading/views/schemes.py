"""Placeholder until the schemes pages land (replaced in this branch)."""

urlpatterns: list = []
