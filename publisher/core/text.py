"""The one rule for text the catalogue takes in, shared by ingest, the read API and the JSON Schemas."""

from __future__ import annotations

import re

# Characters no name or text field may hold: they are invisible or reorder what follows them, so a
# name holding one could not be typed into a URL and could pass for another name on the page.
# C0 controls, DEL and C1 controls; the bidi controls (ALM U+061C, LRM/RLM U+200E-U+200F, the
# embeddings and overrides U+202A-U+202E, the isolates U+2066-U+2069); the zero-width characters
# (U+200B-U+200D, WORD JOINER and the invisible operators U+2060-U+2064, U+FEFF); and the line and
# paragraph separators U+2028-U+2029. Written once as a character-class body in \uXXXX escapes,
# which both Python's re and ECMA-262 (JSON Schema `pattern`) read the same way.
FORBIDDEN_CLASS = (
    "\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u200b-\\u200f\\u2028-\\u202e\\u2060-\\u2069\\ufeff"
)
RULE = "control characters, bidi controls or zero-width characters"
_FORBIDDEN = re.compile(f"[{FORBIDDEN_CLASS}]")


def forbidden_character(value: str) -> str | None:
    """The first forbidden character of `value` as `U+XXXX`, or None when the text is clean."""
    found = _FORBIDDEN.search(value)
    return None if found is None else f"U+{ord(found.group()):04X}"


def reason(field: str, value: str) -> str | None:
    """Why `value` is refused as `field` (naming the rule and the code point), or None."""
    found = forbidden_character(value)
    return None if found is None else f"{field} must not contain {RULE} (found {found})"


def visible(value: str | None) -> str | None:
    """`value` with each forbidden character written as `<U+XXXX>`: safe to log or print, where the raw
    character would reorder or hide what the operator reads (a refused name is reported as it was sent)."""
    return None if value is None else _FORBIDDEN.sub(lambda found: f"<U+{ord(found.group()):04X}>", value)
