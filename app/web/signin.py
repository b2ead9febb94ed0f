"""Page sign-in: a signed, HttpOnly, SameSite=Strict cookie naming the token (never the token itself),
with a CSRF value bound to it; the report form's validation messages in Chinese."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from pydantic import ValidationError
from sqlmodel import Session

from app.config import Settings
from app.services import tokens

COOKIE = "kepu_signin"
LOGIN_CSRF_COOKIE = "kepu_login_csrf"
SALT = "kepu-signin"


@dataclass(frozen=True)
class SignIn:
    """A signed-in unit (or the office) and the CSRF value its forms must carry."""

    principal: tokens.Principal
    csrf: str


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key, salt=SALT)


def _settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def sign_in(request: Request, response: Response, token_id: int) -> None:
    """Set the sign-in cookie for a token: signed {token id, CSRF value}, HttpOnly, SameSite=Strict."""
    settings = _settings(request)
    value = _serializer(settings).dumps({"t": token_id, "c": secrets.token_urlsafe(24)})
    response.set_cookie(
        COOKIE,
        value,
        max_age=int(settings.session_hours * 3600),
        httponly=True,
        samesite="strict",
        secure=settings.env == "production",
        path="/",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")


def sign_out(response: Response) -> None:
    """Forget the sign-in."""
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")


def current(request: Request, session: Session) -> SignIn | None:
    """The sign-in the request carries: None when absent, tampered with, expired or its token revoked."""
    raw = request.cookies.get(COOKIE)
    if not raw:
        return None
    settings = _settings(request)
    try:
        data: Any = _serializer(settings).loads(raw, max_age=int(settings.session_hours * 3600))
    except BadSignature:  # SignatureExpired is a BadSignature too
        return None
    if not isinstance(data, dict) or not isinstance(data.get("t"), int) or not isinstance(data.get("c"), str):
        return None
    principal = tokens.principal_for(session, data["t"])
    return SignIn(principal, data["c"]) if principal is not None else None


def csrf_ok(expected: str, presented: str | None) -> bool:
    """The form's CSRF value matches the session's (constant-time)."""
    return bool(presented) and hmac.compare_digest(expected.encode(), (presented or "").encode())


def login_csrf(request: Request) -> str:
    """The double-submit value for the login form: the cookie's if set, else a new one."""
    return request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)


def set_login_csrf(request: Request, response: Response, value: str) -> None:
    """Remember the login form's CSRF value in a cookie only /login sees."""
    secure = _settings(request).env == "production"
    response.set_cookie(
        LOGIN_CSRF_COOKIE, value, httponly=True, samesite="strict", secure=secure, path="/login", max_age=3600
    )


FIELD_MESSAGES = {
    ("status", "enum"): "请选择进展状态",
    ("status", "missing"): "请选择进展状态",
    ("note", "missing"): "请填写进展说明",
    ("note", "string_too_short"): "请填写进展说明",
    ("note", "value_error"): "请填写进展说明(不能只有空格)",
    ("note", "string_too_long"): "进展说明不能超过 2000 字",
    ("reported_on", "missing"): "请填写日期",
    ("reported_on", "value_error"): "日期不能晚于今天",
}


def form_errors(exc: ValidationError) -> dict[str, str]:
    """Validation errors as Chinese messages keyed by form field."""
    errors: dict[str, str] = {}
    for err in exc.errors():
        field = str(err["loc"][0]) if err["loc"] else "form"
        message = FIELD_MESSAGES.get((field, err["type"]))
        if message is None:
            message = "请填写有效日期(年-月-日)" if field == "reported_on" else "填写有误"
        errors.setdefault(field, message)
    return errors
