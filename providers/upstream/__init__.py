"""Providers that relay speech requests to upstream HTTP APIs."""
