"""Sign-in for this browser session: the login form, the signed-in user, sign-out."""

from __future__ import annotations

import streamlit as st

from dashboard import data
from dashboard.auth import User, sign_in
from dashboard.safe import escape_markdown

_KEY = "sentimon_user"


def current_user() -> User | None:
    user = st.session_state.get(_KEY)
    return user if isinstance(user, User) else None


def require_user() -> User:
    """The signed-in user; anyone else gets the login form and nothing of the page."""
    user = current_user()
    if user is None:
        login_page()
        st.stop()
    return user


def login_page() -> None:
    """The only thing an unauthenticated visitor sees."""
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
        st.session_state[_KEY] = user
        st.rerun()


def sidebar(user: User) -> None:
    with st.sidebar:
        st.caption(f"Signed in as **{escape_markdown(user.name)}** ({user.role})")
        if st.button("Sign out", key="sign_out"):
            del st.session_state[_KEY]
            st.rerun()


def admin_only(user: User, action: str, what: str) -> bool:
    """True when the user may do `action`; otherwise says so once and returns False."""
    if user.can(action):
        return True
    st.info(f"Read-only: sign in as an admin to {what}.", icon=":material/lock:")
    return False
