"""Admin for tracking events and suppressions."""
