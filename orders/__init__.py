"""Products and orders synced from the ordering system, and the monthly sales facts
computed from them."""
