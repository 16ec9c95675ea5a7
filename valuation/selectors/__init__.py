"""Reads of the valuation app, scoped to the user: one module per page family."""
