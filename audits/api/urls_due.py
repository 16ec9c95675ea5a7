"""Filled in by its branch."""

urlpatterns: list = []
