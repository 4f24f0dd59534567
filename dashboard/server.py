"""What `streamlit run` serves: the dashboard's Streamlit app behind the security gate (ASGI)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from starlette.middleware import Middleware

from dashboard.gate import ROUTES, SecurityGate

app = st.App(
    str(Path(__file__).resolve().parent / "app.py"), routes=ROUTES, middleware=[Middleware(SecurityGate)]
)
