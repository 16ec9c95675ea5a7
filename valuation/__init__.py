"""Value tiers, core and problem customer lists, early warnings."""
