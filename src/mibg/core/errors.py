"""The one error type for bad input: it names the field so every layer can say which value is wrong."""

from __future__ import annotations


class InputError(ValueError):
    """A value a person entered cannot be used. ``field`` names it as the person knows it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


#: The module's public surface: what the other layers may import (tests/unit/test_architecture.py).
__all__ = [
    "InputError",
]
