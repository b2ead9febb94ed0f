"""What the engine needs from a store, as a small protocol: its records and its version.

The services implement it over the database (app/services/indexing.py); InMemorySource
implements it over a list, so the engine can be built and searched with no store at all,
and a second engine could sit behind the same contract.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from app.search.records import Record


@dataclass(frozen=True)
class SourceVersion:
    """What an index must agree with: the source's write generation, a content fingerprint, its record count."""

    generation: int
    fingerprint: str
    records: int
    position: int = 0  # the last change-log entry the version covers


@dataclass(frozen=True)
class Changes:
    """What changed between two positions of a source's change log; re-read each from the source."""

    position: int  # the last entry these changes cover
    documents: frozenset[int]  # every record of these documents
    records: frozenset[str]  # these records (uids)


class RecordSource(Protocol):
    """Where an index takes its records from."""

    def version(self) -> SourceVersion:
        """The source's current version."""
        ...

    def terms(self) -> list[str]:
        """Names for the segmenter's dictionary (units, activities …)."""
        ...

    def records(self, document_ids: Iterable[int] | None = None) -> Iterator[Record]:
        """Every record of the given documents (all when None), in index order."""
        ...

    def records_by_uid(self, uids: Iterable[str]) -> Iterator[Record]:
        """The records with these uids that the source still holds."""
        ...

    def changes(self, since: int, until: int) -> Changes | None:
        """What changed after position `since` up to `until`; None when that is no longer known (rebuild)."""
        ...


class InMemorySource:
    """A RecordSource over records held in memory (tests; an engine without a store)."""

    def __init__(self, records: Sequence[Record], terms: Sequence[str] = (), generation: int = 1) -> None:
        self._records = list(records)
        self._terms = list(terms)
        self.generation = generation

    def replace(self, records: Sequence[Record], *, terms: Sequence[str] | None = None) -> None:
        """Swap in new records (a write), bumping the generation."""
        self._records = list(records)
        if terms is not None:
            self._terms = list(terms)
        self.generation += 1

    def version(self) -> SourceVersion:
        """Generation, a fingerprint of the record ids, and the count."""
        digest = hashlib.sha256(json.dumps(sorted(r["uid"] for r in self._records)).encode()).hexdigest()[:16]
        return SourceVersion(self.generation, digest, len(self._records))

    def terms(self) -> list[str]:
        """The dictionary names given."""
        return list(self._terms)

    def records(self, document_ids: Iterable[int] | None = None) -> Iterator[Record]:
        """The records, filtered by document."""
        wanted = None if document_ids is None else {str(d) for d in document_ids}
        return iter([r for r in self._records if wanted is None or r["document"] in wanted])

    def records_by_uid(self, uids: Iterable[str]) -> Iterator[Record]:
        """The records with these uids."""
        wanted = set(uids)
        return iter([r for r in self._records if r["uid"] in wanted])

    def changes(self, since: int, until: int) -> Changes | None:
        """No change log in memory: every write is a rebuild."""
        return None
