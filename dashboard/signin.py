"""Signing in and out against the database: throttling, named accounts, sessions, the audit log."""

from __future__ import annotations

from datetime import timedelta
from functools import cache
from typing import Any

import bcrypt
import streamlit as st

from dashboard import data, oidc
from dashboard.auth import (
    Role,
    User,
    as_role,
    check_password,
    new_session_id,
    session_digest,
    session_from_token,
    session_token,
    sign_in,
)
from dashboard.throttle import Policy, after_failure, keys, verdict
from sentimon.storage import accounts, audit

WRONG = "That name and password do not open the dashboard."
# Ended sessions are remembered this long: longer than Streamlit keeps its OIDC cookie (30 days), so
# a signed-out identity cookie cannot open a session again.
KEEP_ENDED_SESSIONS = timedelta(days=31)


def policy() -> Policy:
    s = data.settings()
    return Policy(
        s.login_max_failures,
        s.login_max_failures_per_client,
        s.login_base_delay_s,
        s.login_max_delay_s,
        s.login_lockout_s,
    )


def authenticate(name: str, password: str) -> User | None:
    """A named account's password opens that account; in "passwords" mode a name that is no
    account may use the shared passwords (the embedded default's convenience)."""
    clean = accounts.clean_name(name)
    with data.engine().connect() as conn:
        account = accounts.get_user(conn, clean) if clean else None
    if account is not None:
        ok = check_password(password, account.password_hash)
        role = as_role(account.role)
        return User(account.name, role) if ok and role else None
    if data.settings().auth_mode == "passwords":
        return sign_in(name, password, data.credentials())
    check_password(password, _decoy_hash())  # as slow as a real check: names cannot be probed
    return None


@cache
def _decoy_hash() -> str:
    return bcrypt.hashpw(new_session_id().encode(), bcrypt.gensalt(rounds=12)).decode()


def attempt(name: str, password: str) -> tuple[User | None, str | None]:
    """Try a sign-in: (the user, None), or (None, what to tell the person). The failure is counted
    before the password is checked, so a run cut short (a rerun, a closed tab) still counts."""
    engine, client, rules, now = data.engine(), data.client_address(), policy(), data.now()
    actor = accounts.clean_name(name) or "(no name)"
    counters = keys(name, client)
    with engine.begin() as conn:
        before = accounts.get_attempts(conn, counters)
        wait = verdict(before, now, rules)
        if not wait.allowed:
            action = "sign_in_locked" if wait.locked else "sign_in_throttled"
            audit.record(conn, actor, action, client=client, detail={"wait_s": round(wait.wait_s, 1)})
            return None, wait.message()
        after = {k: after_failure(k, before.get(k), now, rules) for k in counters}
        for key, counted in after.items():
            accounts.put_attempts(conn, key, counted)
    user = authenticate(name, password)  # bcrypt, outside any transaction
    with engine.begin() as conn:
        if user is None:  # the wait runs from now, when the person learns it failed
            after = {k: after_failure(k, before.get(k), data.now(), rules) for k in counters}
            for key, counted in after.items():
                accounts.put_attempts(conn, key, counted)
            locked = any(a.locked_until for a in after.values())
            detail = {"failures": max(a.failures for a in after.values()), "locked": locked}
            audit.record(conn, actor, "sign_in_failed", client=client, detail=detail)
            return None, WRONG + (" Too many failures: signing in is locked for now." if locked else "")
        for key in counters:  # the name starts afresh; the client is as it was before this try
            accounts.clear_attempts(conn, key)
            if key != counters[0] and key in before:
                accounts.put_attempts(conn, key, before[key])
        audit.record(conn, user.name, "sign_in", role=user.role, client=client)
    return user, None


def open_session(user: User) -> str:
    """A new server-side session for `user`; returns the signed token the browser keeps."""
    session_id = new_session_id()
    expires = data.now() + timedelta(seconds=data.settings().session_max_age_s)
    with data.engine().begin() as conn:
        accounts.forget_sessions(conn, data.now() - KEEP_ENDED_SESSIONS)
        accounts.create_session(conn, session_digest(session_id), user.name, user.role, expires)
    return session_token(session_id, data.session_key())


@st.cache_data(ttl=3, show_spinner=False, max_entries=10_000)
def user_for_token(token: str) -> User | None:
    """The user of a live session, re-read from the database every few seconds, so a sign-out on
    any replica, a removed user or a changed role takes effect everywhere."""
    session_id = session_from_token(token, data.session_key(), data.settings().session_max_age_s)
    if session_id is None:
        return None
    with data.engine().connect() as conn:
        found = accounts.session_user(conn, session_digest(session_id), data.now())
        if found and data.settings().auth_mode != "passwords" and not accounts.get_user(conn, found[0]):
            found = None  # outside the shared-password mode only named accounts hold sessions
    role = as_role(found[1]) if found else None
    return User(found[0], role) if found and role else None


def sign_out(user: User, token: str | None) -> None:
    """End the session for good (in the database) and log it."""
    session_id = session_from_token(token, data.session_key()) if token else None
    with data.engine().begin() as conn:
        if session_id:
            accounts.revoke_session(conn, session_digest(session_id), data.now())
        audit.record(conn, user.name, "sign_out", role=user.role, client=data.client_address())
    user_for_token.clear()


# ---- OIDC (auth_mode = "oidc") -----------------------------------------------------------------


def _account_role(name: str) -> Role | None:
    with data.engine().connect() as conn:
        account = accounts.get_user(conn, name)
    return as_role(account.role) if account else None


def oidc_user(claims: dict[str, Any]) -> User | None:
    """The user an identity provider's claims name, with the role the claims or the users table
    give; None if this identity has no access or its session was signed out (on any replica)."""
    s = data.settings()
    name = oidc.identity(claims)
    role = oidc.role_from_claims(claims, s.oidc_role_claim, s.oidc_claim_roles, _account_role)
    if name is None or role is None:
        return None
    digest = session_digest(oidc.session_id(claims))
    now = data.now()
    with data.engine().begin() as conn:
        found = accounts.session_user(conn, digest, now)
        if found is None and not accounts.session_known(conn, digest):
            expires = now + timedelta(seconds=s.session_max_age_s)
            accounts.create_session(conn, digest, name, role, expires)
            audit.record(
                conn, name, "sign_in", role=role, client=data.client_address(), detail={"via": "oidc"}
            )
            found = (name, role)
    return User(name, role) if found else None


def oidc_sign_out(user: User, claims: dict[str, Any]) -> None:
    with data.engine().begin() as conn:
        accounts.revoke_session(conn, session_digest(oidc.session_id(claims)), data.now())
        audit.record(conn, user.name, "sign_out", role=user.role, client=data.client_address())
