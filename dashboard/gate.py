"""HTTP in front of Streamlit: security headers on every answer, downloads only for a live session,
and the sign-in cookie set by the server (HttpOnly: no script on the page can read it)."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from urllib.parse import urlsplit

from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from dashboard.auth import session_digest, session_from_token, session_key_for
from sentimon.settings import Settings, get_settings
from sentimon.storage import accounts
from sentimon.storage.db import make_engine

SESSION_COOKIE = "sentimon_session"
COOKIE_PATH = "/_sentimon/session"  # POST a token to keep it in the cookie, an empty body to drop it
MAX_TOKEN_BYTES = 1024
OIDC_COOKIE = "_streamlit_user"  # Streamlit's own signed identity cookie (auth_mode = "oidc")
# Streamlit's page has an inline bootstrap script and inline styles (and session.py's st.html script);
# Material icons (the page icon) come from fonts.gstatic.com.
CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob: https://fonts.gstatic.com; font-src 'self' data:; "
    "connect-src 'self' ws: wss:; "
    "frame-src 'self' blob: data:; worker-src 'self' blob:; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


@lru_cache(maxsize=1)
def _engine() -> Engine:
    return make_engine(get_settings().db_url)


def session_is_live(cookies: dict[str, str], settings: Settings, now: datetime) -> bool:
    """Whether the request's cookies name a live sign-in (checked in the database)."""
    if settings.auth_mode == "oidc":
        return bool(cookies.get(OIDC_COOKIE))  # signed by Streamlit; its presence is all we can check
    token = cookies.get(SESSION_COOKIE)
    session_id = (
        session_from_token(token, session_key_for(settings), settings.session_max_age_s) if token else None
    )
    if session_id is None:
        return False
    with _engine().connect() as conn:
        return accounts.session_user(conn, session_digest(session_id), now) is not None


MEDIA = "/media/"  # Streamlit's endpoint for files made by the app (downloads, images)


class SecurityGate(BaseHTTPMiddleware):
    """Adds HEADERS to every HTTP answer; answers 403 for /media/ (downloads, images) without a
    live session, so a copied download link opens nothing for anyone signed out."""

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        if request.url.path.startswith(MEDIA):  # not /static/media/: the page's own fonts and icons
            live = await run_in_threadpool(
                session_is_live, dict(request.cookies), get_settings(), datetime.now(UTC)
            )
            if not live:
                return _secure(PlainTextResponse("Sign in to the dashboard first.", status_code=403))
        return _secure(await call_next(request))


def _secure(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response


async def keep_session_cookie(request: Request) -> Response:
    """Set (or, for an empty body, remove) the sign-in cookie: HttpOnly, SameSite=Strict, Secure on
    HTTPS. Only the dashboard's own pages may ask (the Origin must be this host)."""
    origin = request.headers.get("origin")
    if origin is None or urlsplit(origin).netloc != request.headers.get("host"):
        return _secure(PlainTextResponse("Cross-origin requests are refused.", status_code=403))
    token = (await request.body())[:MAX_TOKEN_BYTES].decode(errors="replace").strip()
    response = _secure(Response(status_code=204))
    secure = request.url.scheme == "https" or urlsplit(origin).scheme == "https"
    if token:
        response.set_cookie(
            SESSION_COOKIE,
            token,
            max_age=get_settings().session_max_age_s,
            path="/",
            httponly=True,
            samesite="strict",
            secure=secure,
        )
    else:
        response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict", secure=secure)
    return response


ROUTES = [Route(COOKIE_PATH, keep_session_cookie, methods=["POST"])]
