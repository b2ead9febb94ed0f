"""Chinese full-text search: jieba analysis, Whoosh index lifecycle, query language, suggestions."""
