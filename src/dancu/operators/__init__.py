"""Operators of the database manager (cán bộ): accounts, roles, API tokens, and the guard on operator routes."""
