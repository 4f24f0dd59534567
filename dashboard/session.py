"""Sign-in for this browser: the login form (or the identity provider's), the user, sign-out.

Sessions live in the database (dashboard/signin.py); a signed token naming one sits in a cookie so a
reload keeps the sign-in (a script on the page hands the token to the server, which sets the cookie HttpOnly).
With auth_mode = "oidc" Streamlit's st.login keeps its own cookie."""

from __future__ import annotations

import json

import streamlit as st

from dashboard import data, signin
from dashboard.auth import User
from dashboard.gate import COOKIE_PATH
from dashboard.safe import escape_markdown

_COOKIE = "sentimon_session"
_TOKEN = "sentimon_token"  # the token this session signed in with
_SIGNED_OUT = "sentimon_signed_out"  # the cookie this session started with is void


def _oidc() -> bool:
    return data.settings().auth_mode == "oidc"


def _at_provider() -> bool:
    """Signed in at the identity provider (st.user has no is_logged_in without an [auth] section)."""
    return bool(st.user.get("is_logged_in", False))


def current_user() -> User | None:
    """The signed-in user, checked against the database on every run (cached for seconds)."""
    if _oidc():
        return signin.oidc_user(st.user.to_dict()) if _at_provider() else None
    token = st.session_state.get(_TOKEN)
    if token is None and not st.session_state.get(_SIGNED_OUT):
        token = st.context.cookies.get(_COOKIE)
    if not token:
        return None
    user = signin.user_for_token(token)
    if user is None:  # forged, expired or signed out (here, on another replica, before a restart)
        st.session_state.pop(_TOKEN, None)
        if not st.session_state.get(_SIGNED_OUT):
            st.session_state[_SIGNED_OUT] = True
    else:
        st.session_state[_TOKEN] = token
    return user


def _keep_cookie(token: str) -> None:
    """Have the browser keep `token` in the sign-in cookie ("" removes it): a script on the page
    (st.html, not a frame) posts it to the gate, which sets it HttpOnly. Drawn on every run,
    unchanged, so the element stays mounted and its script runs once per token."""
    body = json.dumps(token).replace("<", "\\u003c")  # no "</script>" can end the element early
    script = (
        f"fetch(location.origin + {json.dumps(COOKIE_PATH)}, {{method: 'POST', "
        f"credentials: 'same-origin', keepalive: true, body: {body}}});"
    )
    st.html(f"<script>{script}</script>", width="content", unsafe_allow_javascript=True)


def require_user() -> User:
    """The signed-in user; anyone else gets the login form and nothing of the page."""
    user = current_user()
    if user is None:
        login_page()
        st.stop()
    return user


def login_page() -> None:
    """The only thing an unauthenticated visitor sees."""
    if st.context.cookies.get(_COOKIE) or st.session_state.get(_SIGNED_OUT):
        _keep_cookie("")  # a stale or signed-out cookie goes
    st.title("Sentimon")
    if _oidc():
        _provider_login()
        return
    st.caption("Live public-opinion trends. Sign in to continue.")
    with st.form("login", border=True, width=420):
        name = st.text_input(
            "Your name", key="login_name", help="Shown next to your labels and alert actions."
        )
        password = st.text_input("Password", type="password", key="login_password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if submitted:
        user, problem = signin.attempt(name, password)
        if user is None:
            st.error(problem or signin.WRONG)
            return
        token = signin.open_session(user)
        st.session_state[_TOKEN] = token
        st.session_state.pop(_SIGNED_OUT, None)
        st.rerun()


def _provider_login() -> None:
    if _at_provider():  # signed in at the provider, but no role here (or signed out here)
        st.warning(
            "You were signed out here, or your account has no access to this dashboard "
            "(ask an admin to add you). Sign out, then sign in again."
        )
        st.button("Sign out", key="oidc_sign_out", on_click=st.logout)
        return
    st.caption("Live public-opinion trends. Sign in with your organisation's account.")
    st.button("Sign in", key="oidc_sign_in", type="primary", on_click=st.login)


def sidebar(user: User) -> None:
    with st.sidebar:
        if not _oidc():
            _keep_cookie(st.session_state.get(_TOKEN, ""))
        st.caption(f"Signed in as **{escape_markdown(user.name)}** ({user.role})")
        if st.button("Sign out", key="sign_out"):
            if _oidc():
                signin.oidc_sign_out(user, st.user.to_dict())
                st.logout()
                return
            signin.sign_out(user, st.session_state.pop(_TOKEN, None))
            st.session_state[_SIGNED_OUT] = True
            st.rerun()


def admin_only(user: User, action: str, what: str) -> bool:
    """True when the user may do `action`; otherwise says so once and returns False."""
    if user.can(action):
        return True
    st.info(f"Read-only: sign in as an admin to {what}.", icon=":material/lock:")
    return False
