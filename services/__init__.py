"""Customer service requests, care and value-added services."""
