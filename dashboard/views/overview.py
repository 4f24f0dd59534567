"""Overview: every topic at a glance, what needs attention first, updating live."""

from __future__ import annotations

import streamlit as st

from dashboard import data, session, widgets

REFRESH_SECONDS = 3

session.require_user()
st.title("Overview")


@st.fragment(run_every=REFRESH_SECONDS)
def live_tiles() -> None:
    """Re-runs on its own every few seconds; the rest of the page stays as it is."""
    tiles, source = data.overview_tiles()
    if not tiles:
        st.info("No topics yet: add one on the Topics page.")
        return
    st.caption(f"Sorted by what needs attention · live from {source} · updated {data.now():%H:%M:%S} UTC")
    columns = st.columns(3)
    for i, tile in enumerate(tiles):
        with columns[i % 3]:
            widgets.tile(tile)


live_tiles()
