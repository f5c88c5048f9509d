"""Subscription lifecycle views."""
