"""The wire dialects the router speaks."""
