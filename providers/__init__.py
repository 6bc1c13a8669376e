"""Provider plugin API and first-party plugins."""
