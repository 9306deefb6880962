"""Sections that the line page's mixins add to its fieldsets."""

from __future__ import annotations

from typing import Any


def before_last(fieldsets: list[Any], sections: list[Any]) -> list[Any]:
    """``fieldsets`` with ``sections`` inserted before the last one (the page's history), or alone."""
    return fieldsets[:-1] + sections + fieldsets[-1:] if fieldsets else sections
