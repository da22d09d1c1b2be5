"""Thin blueprints: parse the request, call the engine and the store, render a template."""
