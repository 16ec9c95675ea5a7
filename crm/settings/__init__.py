"""Settings split by purpose: base (shared, no secrets), local, production, test.

Every address and secret comes from the environment (see `base.env`); `.env` in the project
root is read too when present, so an operator can keep them in one file.
"""
