"""Text folding shared by indexing and querying: width, case, traditional → simplified.

Every fold here maps one character to one character, so offsets found in folded
text are offsets in the original text too (snippets rely on that).
"""

from __future__ import annotations

from app.domain.text import fold_characters


def fold(text: str) -> str:
    """Full-width → ASCII punctuation and digits, traditional → simplified, ASCII lower-case."""
    return fold_characters(text).lower()
