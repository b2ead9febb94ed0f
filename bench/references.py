"""Reference engines on the same jieba tokens: SQLite FTS5 and tantivy (the `bench` extra).

They index each record's title and body as the words our analyzer cuts (the same
dictionary, folded text), and answer the query's words with AND, quoted phrases as
phrases and `-word` as NOT; top 20 by BM25 (title × 3), exact totals, snippets from the
stored text with our own highlighter. They have no facets, no sub-word (bigram) path,
no unit aliases, synonyms, relaxation or pinyin — they do less, and show the limit.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from app.search.analysis import words
from app.search.highlight import highlight_terms, snippet

LIMIT = 20
Record = tuple[str, str, str]  # uid, title, body


def tokens(text: str) -> list[str]:
    """Our analyzer's words of `text` (folded, jieba with the index's dictionary)."""
    return [w for w, _, _ in words(text)]


def query_parts(q: str) -> tuple[list[str], list[list[str]], list[str]]:
    """(words every hit holds, phrases, excluded words) of a query in our query language."""
    required: list[str] = []
    phrases: list[list[str]] = []
    excluded: list[str] = []
    quoted = q.split('"')
    for i, part in enumerate(quoted):
        if i % 2:  # inside quotes
            toks = tokens(part)
            if len(toks) > 1:
                phrases.append(toks)
            else:
                required += toks
            continue
        for chunk in part.split():
            if chunk.upper() == "OR":
                continue
            if chunk.startswith("-"):
                excluded += tokens(chunk[1:])
            else:
                required += tokens(chunk)
    return required, phrases, excluded


class Fts5:
    """SQLite FTS5 over pre-cut words (unicode61 keeps a CJK word between spaces whole)."""

    def __init__(self, path: Path, records: Iterable[Record]) -> None:
        self.path = path
        db = sqlite3.connect(path)
        db.execute("CREATE VIRTUAL TABLE r USING fts5(title, body, tokenize='unicode61')")
        db.execute("CREATE TABLE stored (id INTEGER PRIMARY KEY, uid TEXT, title TEXT, body TEXT)")
        for n, (uid, title, body) in enumerate(records, 1):
            db.execute(
                "INSERT INTO r(rowid, title, body) VALUES (?, ?, ?)",
                (n, " ".join(tokens(title)), " ".join(tokens(body))),
            )
            db.execute("INSERT INTO stored VALUES (?, ?, ?, ?)", (n, uid, title, body))
        db.commit()
        db.close()
        self.db = self.open()

    def open(self) -> sqlite3.Connection:
        """A new connection (a first pass starts with a cold page cache of its own)."""
        return sqlite3.connect(self.path, check_same_thread=False)

    def search(self, q: str, db: sqlite3.Connection | None = None) -> int:
        db = db or self.db
        required, phrases, excluded = query_parts(q)
        if not required and not phrases:
            return 0
        match = " AND ".join([*(f'"{w}"' for w in required), *(f'"{" ".join(p)}"' for p in phrases)])
        if excluded:
            match = f"({match}) NOT ({' OR '.join(f'{chr(34)}{w}{chr(34)}' for w in excluded)})"
        total = db.execute("SELECT count(*) FROM r WHERE r MATCH ?", (match,)).fetchone()[0]
        rows = db.execute(
            "SELECT s.title, s.body FROM r JOIN stored s ON s.id = r.rowid WHERE r MATCH ? "
            "ORDER BY bm25(r, 3.0, 1.0) LIMIT ?",
            (match, LIMIT),
        ).fetchall()
        terms = highlight_terms([*required, *(w for p in phrases for w in p)])
        for title, body in rows:
            snippet(f"{title}。{body}", terms)
        return int(total)


class Tantivy:
    """tantivy over pre-cut words (whitespace tokenizer), BM25 with the title boosted."""

    def __init__(self, path: Path, records: Iterable[Record]) -> None:
        import tantivy  # type: ignore[import-not-found,unused-ignore]  # the bench extra; absent in CI

        self.tantivy = tantivy
        builder = tantivy.SchemaBuilder()
        builder.add_text_field("title", stored=False, tokenizer_name="whitespace")
        builder.add_text_field("body", stored=False, tokenizer_name="whitespace")
        builder.add_text_field("shown_title", stored=True, tokenizer_name="raw", index_option="basic")
        builder.add_text_field("shown_body", stored=True, tokenizer_name="raw", index_option="basic")
        self.schema = builder.build()
        path.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.index = tantivy.Index(self.schema, path=str(path))
        writer = self.index.writer(heap_size=128_000_000, num_threads=1)
        for _, title, body in records:
            writer.add_document(
                tantivy.Document(
                    title=" ".join(tokens(title)), body=" ".join(tokens(body)), shown_title=title, shown_body=body
                )
            )
        writer.commit()
        writer.wait_merging_threads()
        self.index.reload()
        self.searcher = self.index.searcher()

    def fresh(self) -> Any:
        """A searcher on the index opened anew from its files (for a first pass)."""
        return self.tantivy.Index.open(str(self.path)).searcher()

    def search(self, q: str, searcher: Any | None = None) -> int:
        searcher = searcher or self.searcher
        required, phrases, excluded = query_parts(q)
        if not required and not phrases:
            return 0
        clauses = [
            *(f'+"{w}"' for w in required),
            *(f'+"{" ".join(p)}"' for p in phrases),
            *(f'-"{w}"' for w in excluded),
        ]
        query = self.index.parse_query(" ".join(clauses), ["title", "body"], field_boosts={"title": 3.0})
        result = searcher.search(query, LIMIT, count=True)
        terms = highlight_terms([*required, *(w for p in phrases for w in p)])
        for _, address in result.hits:
            doc = searcher.doc(address)
            snippet(f"{doc['shown_title'][0]}。{doc['shown_body'][0]}", terms)
        return int(result.count or 0)
