"""Admin for digest deliveries."""
