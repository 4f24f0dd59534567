"""The dashboard's entry point: page set-up, the sign-in gate and the navigation between pages."""

from __future__ import annotations

import streamlit as st

from dashboard import session

PAGES = [
    ("views/overview.py", "Overview", ":material/dashboard:"),
    ("views/topic_detail.py", "Topic detail", ":material/show_chart:"),
    ("views/topics.py", "Topics", ":material/tune:"),
    ("views/alerts.py", "Alerts", ":material/notifications:"),
    ("views/labelling.py", "Labelling", ":material/label:"),
    ("views/models.py", "Models", ":material/model_training:"),
    ("views/audit.py", "Audit", ":material/policy:"),
]
ADMIN_PAGES = {"views/audit.py"}
HOME = "home"  # the default page, served at /: it only leads on to the Overview


def _slug(path: str) -> str:
    return path.removeprefix("views/").removesuffix(".py")


def main() -> None:
    st.set_page_config(page_title="Sentimon", page_icon=":material/monitoring:", layout="wide")
    user = session.current_user()
    if user is None:
        # Every address shows the login, so a deep link lands on its page once signed in.
        gate = [st.Page(session.login_page, title="Sign in", url_path=HOME, default=True)]
        gate += [st.Page(session.login_page, title="Sign in", url_path=_slug(path)) for path, _, _ in PAGES]
        st.navigation(gate, position="hidden").run()
        return
    session.sidebar(user)
    pages = [st.Page(_home, title="Overview", url_path=HOME, default=True, visibility="hidden")]
    pages += [
        st.Page(path, title=title, icon=icon, url_path=_slug(path))
        for path, title, icon in PAGES
        if path not in ADMIN_PAGES or user.can("audit")
    ]
    st.navigation(pages).run()


def _home() -> None:
    """/ opens the Overview at its own address, so /overview is a page like any other."""
    st.switch_page(PAGES[0][0])


main()
