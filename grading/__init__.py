"""Monthly sales grades, the 42-category code and structure classes, recomputed from order data."""
