"""Sign-in for this browser: the login form, the signed-in user, sign-out.

The user lives in the Streamlit session; a signed token in a cookie brings it back after a reload
(Streamlit reads cookies but cannot set them, so a zero-height component writes it from the page)."""

from __future__ import annotations

import json

import streamlit as st
import streamlit.components.v1 as components

from dashboard import data
from dashboard.auth import SESSION_MAX_AGE_S, User, session_token, sign_in, user_from_token
from dashboard.safe import escape_markdown

_KEY = "sentimon_user"
_COOKIE = "sentimon_session"
_SIGNED_OUT = "sentimon_signed_out"  # set by sign-out: the cookie this session started with is void
_WRITE = "sentimon_cookie_write"  # a token to store in the browser, or "" to remove it
_TOKEN = "sentimon_token"  # the token this session signed in with


@st.cache_resource
def _revoked() -> set[str]:
    """Tokens signed out in this dashboard process: a reload right after sign-out may still carry
    the cookie (the page removes it a moment later), and must not sign the browser back in."""
    return set()


def current_user() -> User | None:
    user = st.session_state.get(_KEY)
    if isinstance(user, User):
        return user
    token = st.context.cookies.get(_COOKIE)
    if not token:
        return None
    valid = not st.session_state.get(_SIGNED_OUT) and token not in _revoked()
    user = user_from_token(token, data.session_key()) if valid else None
    if user is not None:
        st.session_state[_KEY], st.session_state[_TOKEN] = user, token
    elif not st.session_state.get(_SIGNED_OUT):  # forged, expired or revoked: remove it once
        st.session_state[_SIGNED_OUT], st.session_state[_WRITE] = True, ""
    return user


def _write_cookie() -> None:
    """Store (or remove) the sign-in cookie once, after the run that asked for it."""
    token = st.session_state.pop(_WRITE, None)
    if token is None:
        return
    age = SESSION_MAX_AGE_S if token else 0
    script = (
        "const secure = parent.location.protocol === 'https:' ? '; Secure' : '';"
        f"parent.document.cookie = {json.dumps(f'{_COOKIE}={token}')} + "
        f"'; path=/; max-age={age}; SameSite=Strict' + secure;"
    )
    components.html(f"<script>{script}</script>", height=0)


def require_user() -> User:
    """The signed-in user; anyone else gets the login form and nothing of the page."""
    user = current_user()
    if user is None:
        login_page()
        st.stop()
    return user


def login_page() -> None:
    """The only thing an unauthenticated visitor sees."""
    _write_cookie()
    st.title("Sentimon")
    st.caption("Live public-opinion trends. Sign in to continue.")
    with st.form("login", border=True, width=420):
        name = st.text_input(
            "Your name", key="login_name", help="Shown next to your labels and alert actions."
        )
        password = st.text_input("Password", type="password", key="login_password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if submitted:
        user = sign_in(name, password, data.credentials())
        if user is None:
            st.error("That password does not open the dashboard.")
            return
        token = session_token(user, data.session_key())
        st.session_state[_KEY], st.session_state[_TOKEN], st.session_state[_WRITE] = user, token, token
        st.session_state.pop(_SIGNED_OUT, None)
        st.rerun()


def sidebar(user: User) -> None:
    with st.sidebar:
        _write_cookie()
        st.caption(f"Signed in as **{escape_markdown(user.name)}** ({user.role})")
        if st.button("Sign out", key="sign_out"):
            _revoked().add(st.session_state.pop(_TOKEN, ""))
            del st.session_state[_KEY]
            st.session_state[_SIGNED_OUT], st.session_state[_WRITE] = True, ""
            st.rerun()


def admin_only(user: User, action: str, what: str) -> bool:
    """True when the user may do `action`; otherwise says so once and returns False."""
    if user.can(action):
        return True
    st.info(f"Read-only: sign in as an admin to {what}.", icon=":material/lock:")
    return False
