"""Customers (retail shops): the field catalogue, static / dynamic / system information,
change requests."""
