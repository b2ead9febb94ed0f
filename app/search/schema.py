"""The Whoosh schema: what a searchable record holds and how each field is weighted."""

from __future__ import annotations

from whoosh.fields import ID, KEYWORD, STORED, TEXT, Schema

from app.search.analysis import BigramTokenizer, JiebaTokenizer

# Bump when the fields or analyzers change: an index built under another version is
# rebuilt at start-up instead of being read with the wrong format.
SCHEMA_VERSION = 5

# BM25F field weights: a key point's title says most, then body text, then the sub-word path.
TITLE_BOOST = 3.0
BODY_BOOST = 1.0
GRAMS_BOOST = 0.5
# A task's key point's title: the notice files the task under that topic, weakly.
CONTEXT_BOOST = 0.3
DEPARTMENT_FIELD_BOOST = 0.8


def build_schema() -> Schema:
    """A fresh schema instance with our analyzers."""
    return Schema(
        uid=ID(unique=True, stored=True),
        kind=ID(stored=True),
        # Shown, never searched: stored only, so they add no postings to write or merge.
        ref=STORED(),
        year=STORED(),
        number=STORED(),
        document=ID(stored=True),
        title=TEXT(analyzer=JiebaTokenizer(), stored=True, phrase=True, field_boost=TITLE_BOOST),
        body=TEXT(analyzer=JiebaTokenizer(), stored=True, phrase=True, field_boost=BODY_BOOST),
        context=TEXT(analyzer=JiebaTokenizer(), phrase=False, field_boost=CONTEXT_BOOST),
        # No positions: a quoted phrase on this path is checked against the stored text.
        grams=TEXT(analyzer=BigramTokenizer(), phrase=False, field_boost=GRAMS_BOOST),
        department=KEYWORD(stored=True, commas=True, scorable=True, field_boost=DEPARTMENT_FIELD_BOOST),
        lead=KEYWORD(stored=True, commas=True),
        # "yes" on records every member unit takes part in (各成员单位参与): a unit named in a
        # query finds them too, below the records that name it.
        all_members=ID(),
        section=KEYWORD(stored=True, commas=True),
        target_group=KEYWORD(stored=True, commas=True),
        extra=STORED(),
    )
