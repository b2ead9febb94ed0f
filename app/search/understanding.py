"""What a typed query means, before it is matched: questions, intent, years.

People type questions (如何提升老年人的数字素养), requests (教育部牵头的任务) and years
(2023年 科普日) as often as keywords. This turns such text into the words worth matching
and the filters it implies, and reports every word it did not match and why:

- question and function words (data: app/data/query_words.toml) are never matched;
- a unit followed by a role word (牵头/负责 …, 参与/配合 …) becomes a unit-and-role filter;
- generic request nouns (任务, 工作 …) are dropped when anything else is searched;
- a year selects that year's edition when one is stored, and is ignored otherwise.

Words left over are grouped into runs of adjacent words, each run one required clause, as
typed. A question, or an unspaced run of LONG_RUN_WORDS words or more, reads as a sentence:
each of its words is then a clause of its own (`如何提升老年人的数字素养` asks for 提升,
老年人, 数字 and 素养), which relaxation can weigh separately. Phrases, exclusions and OR
groups are left exactly as typed.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import NoReturn

from app.domain.departments import DepartmentDirectory
from app.domain.vocabulary import Role
from app.domain.vocabulary import TermUsage as Usage
from app.search.analysis import bigrams, words
from app.search.errors import QueryError
from app.search.query import ParsedQuery, Term
from app.search.text import fold

_YEAR = re.compile(r"^((?:19|20)\d{2})年?度?$")
_YEAR_SUFFIX = {"年", "年度"}
LONG_RUN_WORDS = 4  # an unspaced run of this many words is read as a sentence


@dataclass(frozen=True)
class QueryWords:
    """The vocabularies of app/data/query_words.toml, folded."""

    question: frozenset[str]
    filler: frozenset[str]
    roles: dict[str, Role]


@cache
def query_words() -> QueryWords:
    """The shipped vocabularies (read once)."""
    raw = tomllib.loads(resources.files("app.data").joinpath("query_words.toml").read_text("utf-8"))
    roles = {fold(w): Role.LEAD for w in raw["lead"]} | {fold(w): Role.PARTICIPANT for w in raw["participant"]}
    return QueryWords(
        question=frozenset(fold(w) for w in [*raw["question"], *raw["function"]]),
        filler=frozenset(fold(w) for w in raw["filler"]),
        roles=roles,
    )


@dataclass(frozen=True)
class Intent:
    """A unit-and-role filter read from the query."""

    department: str
    role: Role
    words: tuple[str, ...]


@dataclass(frozen=True)
class SetAside:
    """A typed word that is not matched, and why."""

    word: str
    usage: Usage


@dataclass
class Understood:
    """The query to match, the filters it implies and the words set aside."""

    query: ParsedQuery
    intent: Intent | None = None
    year: int | None = None
    set_aside: list[SetAside] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def matches_everything(self) -> bool:
        """Nothing left to match: the filters alone say what is wanted."""
        return not self.query.clauses


@dataclass
class _Word:
    text: str  # the original characters
    folded: str
    gap_before: bool  # not adjacent to the previous word (space, punctuation, dropped word)
    usage: Usage = Usage.SEARCH


def understand(parsed: ParsedQuery, directory: DepartmentDirectory, *, years: set[int]) -> Understood:
    """Separate the words to match from question words, intent and years."""
    vocab = query_words()
    kept: list[list[Term]] = []
    plain: list[_Word] = []
    for clause in parsed.clauses:
        term = clause[0]
        if len(clause) > 1 or term.phrase or term.negated:
            kept.append(clause)
            continue
        found = words(term.text)
        if not found:
            if not bigrams(term.text):
                raise QueryError(f"{term.text!r} has nothing searchable in it (only punctuation or symbols)")
            plain.append(_Word(term.text, fold(term.text), True, Usage.QUESTION))  # 的, 了: function words
            continue
        for i, (folded, start, end) in enumerate(found):
            gap = i == 0 or found[i - 1][2] != start
            plain.append(_Word(term.text[start:end], folded, gap))
    result = Understood(ParsedQuery(parsed.text))

    intent: Intent | None = None
    for i, word in enumerate(plain):
        if word.folded in vocab.question:
            word.usage = Usage.QUESTION
        elif word.folded in vocab.roles:
            unit = plain[i - 1] if i else None
            department = directory.resolve(unit.folded) if unit and unit.usage == Usage.SEARCH else None
            if unit is not None and department and intent is None:
                intent = Intent(department, vocab.roles[word.folded], (unit.text, word.text))
                unit.usage = word.usage = Usage.INTENT
            else:
                word.usage = Usage.FILLER
        elif word.folded in vocab.filler:
            word.usage = Usage.FILLER
        elif _YEAR.match(word.folded) or (word.folded in _YEAR_SUFFIX and i and plain[i - 1].usage == Usage.YEAR):
            word.usage = Usage.YEAR
    result.intent = intent

    searched = [w for w in plain if w.usage == Usage.SEARCH]
    fillers = [w for w in plain if w.usage == Usage.FILLER]
    year_words = [w for w in plain if w.usage == Usage.YEAR]
    if not searched and not kept and not intent:
        if fillers or year_words:  # "工作", "2023年": nothing else to go on, so match them
            for w in [*fillers, *year_words]:
                w.usage = Usage.SEARCH
            year_words = []
        elif plain:
            _only_question_words(plain)
    for w in year_words:
        number = _YEAR.match(w.folded)
        if number is None:  # the 年 after a year
            continue
        year = int(number.group(1))
        if year in years:
            result.year = year
        else:
            result.notes.append(f"没有{year}年的工作要点，已忽略“{w.text}”")

    # A question or a long unspaced phrase is a sentence, not a name: each of its words is
    # a clause of its own, so relaxation can weigh them one by one (proximity still rewards
    # records that hold them side by side).
    # A lone character (周, 馆) stays with the word before it: alone it would have to begin
    # a bigram of the record, and 周 ends 科技活动周 without beginning one.
    sentence = any(w.usage != Usage.SEARCH for w in plain)
    run: list[_Word] = []
    for current in [*plain, None]:
        if current is not None and not current.gap_before and len(run) >= LONG_RUN_WORDS - 1:
            sentence = True
        bound = (
            current is not None
            and current.usage == Usage.SEARCH
            and bool(run)
            and not current.gap_before
            and len(current.folded) == 1
        )
        if not bound and (current is None or current.usage != Usage.SEARCH or current.gap_before or sentence):
            if run:
                kept.append([Term("".join(w.text for w in run))])
            run = []
        if current is not None and not bound and sentence and len(current.folded) == 1:
            # Unbound in a question (第 of 第多少届, after 是): grammar more often than a word.
            current.usage = Usage.QUESTION
        if current is not None and current.usage == Usage.SEARCH:
            run.append(current)
        elif current is not None:
            result.set_aside.append(SetAside(current.text, current.usage))
    result.query.clauses = kept
    if kept and all(clause[0].negated for clause in kept):
        raise QueryError("the query only excludes; add a word to search for")
    return result


def _only_question_words(plain: list[_Word]) -> NoReturn:
    listed = "、".join(dict.fromkeys(w.text for w in plain))
    raise QueryError(f"the query has only question or function words ({listed}); add what you are looking for")
