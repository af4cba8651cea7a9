"""econfacts: curated, sourced and versioned facts about economic relations between countries."""

API_VERSION = "v1"
"""The one place the public API version lives: routes mount under /{API_VERSION}."""
