"""The query language and its translation into Whoosh queries.

Space means AND, `OR` between two terms means either, "quoted text" is a phrase and
-term excludes. Each term matches its jieba words (title, body), its CJK bigrams (the
sub-word path, weaker), the unit it names (any alias) and its synonyms (weaker still).
"""

from __future__ import annotations

import tomllib
import unicodedata
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources

from whoosh import query as wq

from app.domain.departments import DepartmentDirectory
from app.search.analysis import active_segmenter, bigrams, parts, words
from app.search.errors import QueryError
from app.search.ranking import SubstringPhrase
from app.search.records import ALL_MEMBERS
from app.search.text import fold

SYNONYM_BOOST = 0.5
# A query that names a unit prefers that unit's records (the field's own weight in BM25F is
# schema.DEPARTMENT_FIELD_BOOST; this is the query-time boost on top).
UNIT_QUERY_BOOST = 2.0
# Where a term's words are looked for; a phrase only in the record's own text.
WORD_FIELDS = ("title", "body", "context")
_QUOTES = {'"': '"', "“": "”", "「": "」"}


@dataclass
class Term:
    """One term of the query as the user wrote it."""

    text: str
    phrase: bool = False
    negated: bool = False


@dataclass
class ParsedQuery:
    """Clauses that must all match; the terms inside a clause are alternatives (OR)."""

    text: str
    clauses: list[list[Term]] = field(default_factory=list)


@cache
def synonyms() -> dict[str, tuple[str, ...]]:
    """Word → the other words of its synonym group (shipped data)."""
    raw = resources.files("app.data").joinpath("synonyms.toml").read_text("utf-8")
    table: dict[str, tuple[str, ...]] = {}
    for group in tomllib.loads(raw)["group"]:
        for word in group["words"]:
            # A word in several groups (防震减灾: disasters, and earthquakes) has all their words.
            others = [fold(w) for w in group["words"] if w != word]
            table[fold(word)] = tuple(dict.fromkeys([*table.get(fold(word), ()), *others]))
    return table


def parse_query(text: str, *, max_chars: int) -> ParsedQuery:
    """Split the query into clauses, or raise QueryError saying what is wrong and where."""
    if len(text) > max_chars:
        raise QueryError(f"the query is {len(text):,} characters long; the limit is {max_chars}", limit=max_chars)
    bad = next((i for i, ch in enumerate(text) if unicodedata.category(ch) in ("Cc", "Cf") and ch not in "\t "), None)
    if bad is not None:
        raise QueryError(f"the query has a control character (U+{ord(text[bad]):04X}) at position {bad}", position=bad)
    terms: list[Term | str] = []  # str "OR" marks an operator
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        negated = ch == "-"
        start = i + 1 if negated else i
        if start < n and text[start] in _QUOTES:
            close = text.find(_QUOTES[text[start]], start + 1)
            if close == -1:
                raise QueryError(f"the quote at position {start} is never closed", position=start)
            phrase = text[start + 1 : close].strip()
            if not phrase:
                raise QueryError(f"the quotes at position {start} enclose nothing", position=start)
            terms.append(Term(phrase, phrase=True, negated=negated))
            i = close + 1
            continue
        end = start
        while end < n and not text[end].isspace() and text[end] not in _QUOTES:
            end += 1
        word = text[start:end]
        if not word:
            raise QueryError(f"'-' at position {i} must be followed by a term to exclude", position=i)
        if word == "OR" and not negated:
            terms.append("OR")
        else:
            terms.append(Term(word, negated=negated))
        i = end
    return ParsedQuery(text, _group(terms))


def _group(terms: list[Term | str]) -> list[list[Term]]:
    if not terms:
        raise QueryError("the query is empty; type at least one word")
    clauses: list[list[Term]] = []
    pending_or = False
    for position, term in enumerate(terms):
        if term == "OR":
            if not clauses or pending_or or position == len(terms) - 1:
                raise QueryError("OR needs a term on each side, as in 科普日 OR 科技周")
            pending_or = True
            continue
        assert isinstance(term, Term)
        if pending_or:
            if term.negated or clauses[-1][0].negated:
                raise QueryError("an excluded term (-word) cannot be one side of OR")
            clauses[-1].append(term)
            pending_or = False
        else:
            clauses.append([term])
    if all(clause[0].negated for clause in clauses):
        raise QueryError("the query only excludes; add a word to search for")
    return clauses


@dataclass
class TermAnalysis:
    """How one term was segmented and expanded (shown to users as query.tokens)."""

    term: str
    words: list[str]
    grams: list[str]
    department: str | None
    synonyms: list[str]
    phrase: bool
    excluded: bool


def analyse_term(term: Term, directory: DepartmentDirectory) -> TermAnalysis:
    """Segment a term and find its expansions."""
    folded = fold(term.text)
    found = [w for w, _, _ in words(term.text)]
    grams = [g for g, _, _ in bigrams(term.text)]
    if not found and not grams:
        raise QueryError(f"{term.text!r} has nothing searchable in it (only punctuation or symbols)")
    department = directory.resolve(folded) or directory.resolve(term.text)
    # Quotes ask for these very words: a phrase is never widened to its synonyms.
    widened = [] if term.phrase else list(synonyms().get(folded, ()))
    return TermAnalysis(term.text, found, grams, department, widened, term.phrase, term.negated)


def _words_query(tokens: list[str], phrase: bool) -> wq.Query:
    per_field = []
    for fieldname in WORD_FIELDS:
        if len(tokens) == 1:
            per_field.append(wq.Term(fieldname, tokens[0]))
        elif phrase:
            if fieldname != "context":
                per_field.append(wq.Phrase(fieldname, tokens))
        else:
            per_field.append(wq.And([wq.Term(fieldname, t) for t in tokens]))
    return wq.Or(per_field)


def standing_query(text: str) -> wq.Query:
    """Records where `text` stands as written (its bigrams, then the stored text checked)."""
    return _grams_query([g for g, _, _ in bigrams(text)], fold(text))


def _grams_query(grams: list[str], phrase: str | None) -> wq.Query:
    if len(grams) > 1:
        # Unquoted, all bigrams anywhere is enough for the weaker sub-word path; a quoted
        # phrase must also stand in the text as typed.
        terms = [wq.Term("grams", g) for g in grams]
        return SubstringPhrase(terms, phrase) if phrase else wq.And(terms)
    # One character ("3", "科"): the index holds bigrams, so match those it begins.
    return wq.Or([wq.Term("grams", grams[0]), wq.Prefix("grams", grams[0])])


def _text_query(text: str, phrase: bool, boost: float = 1.0) -> wq.Query | None:
    tokens = [w for w, _, _ in words(text)]
    grams = [g for g, _, _ in bigrams(text)]
    parts: list[wq.Query] = []
    if tokens:
        parts.append(_words_query(tokens, phrase))
    if grams:
        parts.append(_grams_query(grams, fold(text) if phrase else None))
    if not parts:
        return None
    return wq.Or(parts, boost=boost)


def _literal_query(analysis: TermAnalysis) -> wq.Query:
    """One analysed term as typed, without its synonyms (its text, or the unit it names)."""
    alternatives: list[wq.Query] = []
    literal = _text_query(analysis.term, analysis.phrase)
    if literal is not None:
        alternatives.append(literal)
    if analysis.department:
        alternatives.append(wq.Term("department", analysis.department, boost=UNIT_QUERY_BOOST))
        # 各成员单位参与 includes this unit; a filter field, so these score 0 and come last.
        alternatives.append(wq.Term("all_members", ALL_MEMBERS))
    return alternatives[0] if len(alternatives) == 1 else wq.Or(alternatives)


def _widened(analysis: TermAnalysis) -> list[wq.Query]:
    return [] if analysis.excluded else _synonym_queries(analysis.synonyms)


def _synonym_queries(synonyms: list[str]) -> list[wq.Query]:
    fingerprint = active_segmenter().fingerprint
    return [q for w in synonyms if (q := _synonym_query(w, fingerprint)) is not None]


@lru_cache(maxsize=4096)
def _synonym_query(word: str, fingerprint: str) -> wq.Query | None:
    # The synonyms are shipped data: each one's query is made once per dictionary
    # (`fingerprint`: the words it is cut into depend on it) and shared, never changed.
    return _text_query(word, phrase=False, boost=SYNONYM_BOOST)


@dataclass(frozen=True)
class Part:
    """One word of a clause, weighed on its own when relaxing."""

    text: str
    query: wq.Query  # the word, or any of its synonyms
    literal: wq.Query | None = None  # the word alone, when it has synonyms


@dataclass(frozen=True)
class Clause:
    """One required clause of a compiled query."""

    text: str
    query: wq.Query
    relaxable: bool  # a phrase or an OR group is never dropped to widen the results
    # What relaxation weighs one by one: the clause's words, and the parts of a compound
    # (科普基地 → 科普, 基地), so 科普教育基地 can answer 科普基地 when nothing holds it whole.
    parts: tuple[Part, ...] = ()
    # The clause without its synonyms: a record found only through a synonym weighs less
    # when relaxing (资助 found as 资金 is weaker evidence than 资助 itself).
    literal: wq.Query | None = None


@dataclass
class CompiledQuery:
    """Required clauses (all must match), excluded ones, and the analysis of every term."""

    required: list[Clause]
    excluded: wq.Query | None
    analyses: list[TermAnalysis]

    def combined(self, clauses: list[Clause] | None = None) -> wq.Query | None:
        """All of `clauses` (default: every required clause), less the excluded."""
        queries = [c.query for c in (self.required if clauses is None else clauses)]
        if not queries:
            return None
        query: wq.Query = queries[0] if len(queries) == 1 else wq.And(queries)
        return wq.AndNot(query, self.excluded) if self.excluded is not None else query


def _parts(analysis: TermAnalysis) -> tuple[Part, ...]:
    if analysis.department:  # a unit's name is matched whole or not at all
        return ()
    pieces = analysis.words if len(analysis.words) > 1 else parts(analysis.words[0]) if analysis.words else []
    built: list[Part] = []
    for piece in pieces:
        literal = _text_query(piece, phrase=False)
        if literal is None:
            continue
        # A part keeps the meaning it has alone: 应急 of 应急科普 also reads 防灾减灾.
        widened = _synonym_queries(list(synonyms().get(fold(piece), ())))
        if widened:
            built.append(Part(piece, wq.Or([literal, *widened]), literal))
        else:
            built.append(Part(piece, literal))
    return tuple(built)


def build_query(parsed: ParsedQuery, directory: DepartmentDirectory) -> CompiledQuery:
    """The Whoosh clauses for a parsed query, and the analysis of every term."""
    required: list[Clause] = []
    excluded: list[wq.Query] = []
    analyses: list[TermAnalysis] = []
    for clause in parsed.clauses:
        clause_analyses = [analyse_term(t, directory) for t in clause]
        analyses.extend(clause_analyses)
        literals = [_literal_query(a) for a in clause_analyses]
        queries = [
            wq.Or([literal, *widened]) if (widened := _widened(a)) else literal
            for a, literal in zip(clause_analyses, literals, strict=True)
        ]
        combined = queries[0] if len(queries) == 1 else wq.Or(queries)
        if clause[0].negated:
            excluded.append(combined)
        else:
            text = " OR ".join(t.text for t in clause)
            relaxable = len(clause) == 1 and not clause[0].phrase
            if relaxable:
                first = clause_analyses[0]
                literal = literals[0] if first.synonyms else None
                required.append(Clause(text, combined, True, _parts(first), literal))
            else:
                required.append(Clause(text, combined, False))
    return CompiledQuery(required, wq.Or(excluded) if excluded else None, analyses)
