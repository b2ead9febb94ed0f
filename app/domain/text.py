"""Width normalisation shared by every layer that compares Chinese text.

Official copies use full-width punctuation, the seed uses ASCII; structure, unit names
and search terms are all compared after `normalise`, so both read alike.
"""

from __future__ import annotations

# Full-width forms that carry structure in these notices, mapped to the seed's ASCII.
_PUNCTUATION = str.maketrans(
    {
        "（": "(",
        "）": ")",
        "，": ",",
        "：": ":",
        "；": ";",
        "．": ".",
        "\u3000": " ",
        "\u00a0": " ",
    }
)
_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


def normalise(text: str) -> str:
    """Map full-width structural punctuation and digits to ASCII."""
    return text.translate(_PUNCTUATION).translate(_DIGITS)
