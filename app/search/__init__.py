"""The search engine: jieba analysis, the Whoosh schema and index lifecycle, the query language and
its understanding (questions, intent, years), matching, BM25F ranking, pinyin and snippets. It knows
Whoosh and jieba, not SQL or HTTP (see the import contracts in pyproject.toml)."""
