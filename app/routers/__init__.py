"""Thin HTTP endpoints, one module per resource."""
