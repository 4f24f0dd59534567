"""Sign-in decisions: roles from bcrypt hashes, pre-hashed settings accepted, viewers cannot edit."""

from __future__ import annotations

import bcrypt
import pytest

from dashboard.auth import (
    check_password,
    credentials_from,
    new_session_id,
    role_for,
    session_digest,
    session_from_token,
    session_token,
    sign_in,
    to_hash,
)


def test_passwords_are_kept_only_as_hashes() -> None:
    creds = credentials_from("s3cret-admin", "s3cret-view", rounds=4)
    assert creds.admin_hash is not None and b"s3cret" not in creds.admin_hash
    assert creds.admin_hash.startswith(b"$2b$")


def test_each_password_opens_its_role_and_nothing_else() -> None:
    creds = credentials_from("s3cret-admin", "s3cret-view", rounds=4)
    assert role_for("s3cret-admin", creds) == "admin"
    assert role_for("s3cret-view", creds) == "viewer"
    assert role_for("s3cret", creds) is None
    assert role_for("", creds) is None
    assert role_for("x" * 100, creds) is None


def test_a_bcrypt_hash_in_the_settings_is_used_as_is() -> None:
    hashed = bcrypt.hashpw(b"from-vault", bcrypt.gensalt(rounds=4)).decode()
    assert to_hash(hashed) == hashed.encode()
    creds = credentials_from(hashed, "", rounds=4)
    assert role_for("from-vault", creds) == "admin"
    assert role_for(hashed, creds) is None  # the hash itself is not a password
    assert creds.viewer_hash is None and role_for("", creds) is None


def test_overlong_configured_passwords_are_refused_not_truncated() -> None:
    with pytest.raises(ValueError, match="72 bytes"):
        to_hash("y" * 73)


def test_viewers_read_and_admins_act() -> None:
    creds = credentials_from("a", "v", rounds=4)
    viewer = sign_in("  Ana   Lima ", "v", creds)
    admin = sign_in("", "a", creds)
    assert viewer is not None and viewer.name == "Ana Lima" and viewer.role == "viewer"
    assert admin is not None and admin.name == "admin"
    for action in ("edit_topics", "alert_actions", "label", "models"):
        assert admin.can(action) and not viewer.can(action)
    assert viewer.can("read") and sign_in("bo", "wrong", creds) is None


def test_a_session_token_carries_its_session_only_with_its_key_and_before_it_expires() -> None:
    sid = new_session_id()
    token = session_token(sid, "key-1")
    assert session_from_token(token, "key-1") == sid
    assert sid not in session_digest(sid) and len(session_digest(sid)) == 64  # the store keeps a digest
    assert session_from_token(token, "key-2") is None  # the secret or a shared password changed
    assert session_from_token(token, "key-1", max_age_s=-1) is None  # expired
    head, _, signature = token.rpartition(".")
    assert session_from_token(f"{head}.{signature[::-1]}", "key-1") is None
    other = session_token(new_session_id(), "key-1")
    swapped = other.replace(other.split(".")[0], token.split(".")[0])  # one payload, another signature
    assert session_from_token(swapped, "key-1") is None
    assert session_from_token("", "key-1") is None and session_from_token("not a token", "key-1") is None


def test_stored_account_hashes_open_only_with_their_password() -> None:
    hashed = bcrypt.hashpw(b"correct horse 9", bcrypt.gensalt(rounds=4)).decode()
    assert check_password("correct horse 9", hashed)
    assert not check_password("correct horse", hashed)
    assert not check_password("", hashed) and not check_password("x", None) and not check_password("x", "")
    assert not check_password("x", "not-a-hash")
