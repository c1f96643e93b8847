"""dancu — the national population database and its data-exchange platform."""

__version__ = "0.1.0"
