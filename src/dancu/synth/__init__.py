"""Synthetic population: realistic, deterministic Vietnamese residents and households, bulk-loaded."""
