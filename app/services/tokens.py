"""Write tokens: one per member unit (or the office), shown once, stored as a SHA-256 hash."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from sqlmodel import Session, col, select

from app import models as m
from app import schemas as s
from app.domain.departments import DepartmentDirectory
from app.domain.vocabulary import AuditAction, TokenScope
from app.errors import InvalidParameter, NotFound, Unauthorized
from app.models import row_id
from app.services import audit
from app.services.catalogue import resolve_department

TOKEN_PREFIX = "kepu_"
# token_urlsafe(32): 43 characters of the URL-safe base64 alphabet.
TOKEN_SHAPE = re.compile(r"kepu_[A-Za-z0-9_-]{43}")
OFFICE = "office"


@dataclass(frozen=True)
class Principal:
    """Who a valid token speaks for."""

    token_id: int
    scope: TokenScope
    department: str | None

    @property
    def is_office(self) -> bool:
        """The office (纲要办) may write on every task and correct reports."""
        return self.scope == TokenScope.OFFICE

    @property
    def label(self) -> str:
        """The actor named in reports and the audit trail."""
        return self.department or OFFICE


def hash_token(token: str) -> str:
    """SHA-256 of the token, hex: what the store keeps (tokens are random, so no salt or slow hash is needed)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(
    session: Session,
    directory: DepartmentDirectory,
    department: str | None,
    *,
    office: bool = False,
    origin: audit.Origin = audit.CLI,
) -> tuple[m.UnitToken, str]:
    """A new token for a unit (any spelling) or the office; returns the row and the token, shown once."""
    if office == (department is not None):
        raise InvalidParameter("give either a member unit or --office")
    name = resolve_department(session, directory, department) if department is not None else None
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = m.UnitToken(
        scope=TokenScope.OFFICE if office else TokenScope.UNIT,
        department=name,
        token_hash=hash_token(token),
        prefix=token[:12],
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor="cli",
        action=AuditAction.TOKEN_CREATED,
        target=f"token:{row_id(row)}",
        after={"scope": row.scope, "department": name, "prefix": row.prefix},
        origin=origin,
    )
    return row, token


def revoke_token(session: Session, token_id: int, *, origin: audit.Origin = audit.CLI) -> m.UnitToken:
    """Revoke a token at once (its page sign-ins too); revoking twice keeps the first time."""
    row = session.get(m.UnitToken, token_id)
    if row is None:
        raise NotFound(f"no token with id {token_id}")
    if row.revoked_at is None:
        row.revoked_at = dt.datetime.now(dt.UTC)
        session.add(row)
        session.flush()
        audit.record(
            session,
            actor="cli",
            action=AuditAction.TOKEN_REVOKED,
            target=f"token:{token_id}",
            before={"revoked_at": None},
            after={"revoked_at": row.revoked_at.isoformat()},
            origin=origin,
        )
    return row


def list_tokens(session: Session) -> list[s.TokenPublic]:
    """Every token ever issued, revoked ones included; never the token itself."""
    rows = session.exec(select(m.UnitToken).order_by(col(m.UnitToken.id))).all()
    return [token_public(r) for r in rows]


def token_public(row: m.UnitToken) -> s.TokenPublic:
    """A token row as listed."""
    return s.TokenPublic.model_validate(row, from_attributes=True)


def authenticate(session: Session, presented: str) -> Principal:
    """The principal of a valid, unrevoked token; Unauthorized otherwise (the same answer for unknown and revoked)."""
    if not TOKEN_SHAPE.fullmatch(presented):
        raise Unauthorized("the bearer token is malformed: expected kepu_ followed by 43 URL-safe characters")
    digest = hash_token(presented)
    row = session.exec(select(m.UnitToken).where(m.UnitToken.token_hash == digest)).first()
    # The lookup finds the row by its hash; the comparison that decides runs in constant time.
    if row is None or not hmac.compare_digest(row.token_hash, digest) or row.revoked_at is not None:
        raise Unauthorized("the bearer token is unknown or revoked")
    return _principal(row)


def principal_for(session: Session, token_id: int) -> Principal | None:
    """The principal behind a page sign-in, or None once its token is revoked or gone."""
    row = session.get(m.UnitToken, token_id)
    if row is None or row.revoked_at is not None:
        return None
    return _principal(row)


def _principal(row: m.UnitToken) -> Principal:
    return Principal(token_id=row_id(row), scope=TokenScope(row.scope), department=row.department)
