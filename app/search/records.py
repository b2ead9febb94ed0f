"""An index record: the plain dict a key point, task or activity becomes (no store access here)."""

from __future__ import annotations

from typing import Any

Record = dict[str, Any]
ALL_MEMBERS = "yes"  # the all_members field's one value


def record_uid(kind: str, ref: int) -> str:
    """A record's id in the index ("task:12"): what the change log names a changed record by."""
    return f"{kind}:{ref}"


def first_sentence(text: str) -> tuple[str, str]:
    """A task's first sentence (its title) and the rest."""
    head, sep, rest = text.partition("。")
    return (head, rest.strip()) if sep else (text, "")


def make_record(
    kind: str,
    ref: int,
    document_id: int,
    year: int,
    number: int,
    title: str,
    body: str,
    units: list[Any],
    sections: list[str],
    groups: list[str],
    extra: dict[str, Any] | None = None,
    all_members: bool = False,
    context: str = "",
) -> Record:
    """The record Whoosh indexes; `units` are (name, full name, role) triples."""
    record: Record = {
        "uid": record_uid(kind, ref),
        "kind": kind,
        "ref": ref,
        "document": str(document_id),
        "year": year,
        "number": number,
        "title": title,
        "body": body,
        "grams": f"{title}\n{body}",
        "context": context,
        "department": ",".join(u[0] for u in units),
        "lead": ",".join(u[0] for u in units if u[2] == "lead"),
        "section": ",".join(sections),
        "target_group": ",".join(groups),
        "extra": {"departments": [list(u) for u in units], **(extra or {})},
    }
    if all_members:  # absent otherwise: an empty value would still be indexed as a term
        record["all_members"] = ALL_MEMBERS
    return record
