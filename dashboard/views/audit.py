"""Audit (admins): every sign-in, failure, sign-out and change, with who, what, when and from where."""

from __future__ import annotations

import json

import streamlit as st

from dashboard import data, session, widgets
from dashboard.safe import plain

SIGN_IN = ("sign_in", "sign_in_failed", "sign_in_throttled", "sign_in_locked", "sign_out")

user = session.require_user()
st.title("Audit")
if not session.admin_only(user, "audit", "see who signed in and changed what"):
    st.stop()

only_sign_ins = st.toggle("Only sign-ins and sign-outs", key="audit_sign_ins")
entries = data.audit_entries(300, SIGN_IN if only_sign_ins else ())
widgets.table_or(
    [
        {
            "when": widgets.when(e.at),
            "who": plain(e.actor),
            "role": e.role or "",
            "action": e.action,
            "target": plain(e.target or ""),
            "client": e.client or "",
            "detail": plain(json.dumps(e.detail, ensure_ascii=False)) if e.detail else "",
        }
        for e in entries
    ],
    "Nothing logged yet.",
    key="audit_table",
)
