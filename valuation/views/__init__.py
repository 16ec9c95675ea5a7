"""Valuation pages: one module per page family, each with its own urlpatterns."""
