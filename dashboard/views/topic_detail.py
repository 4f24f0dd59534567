"""Topic detail: a topic's shares and volume over time, its alerts, posts and the words behind it."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import streamlit as st

from dashboard import charts, data, session, trends, widgets
from dashboard.safe import escape_markdown, plain
from sentimon.schema import CURRENT, WINDOW, window_start

RANGES = trends.RANGES
DEFAULT_BUCKET = {"Last hour": "1 min", "Last day": "5 min", "Last week": "1 hour", "Custom": "1 hour"}


def fitting_range(topic_id: int) -> str:
    """The shortest range that holds all of a topic's data, so a young topic fills the chart."""
    return trends.fitting_range(data.first_window((topic_id,)), data.now())


session.require_user()
st.title("Topic detail")
names = data.topic_names()
if not names:
    st.info("No topics yet: add one on the Topics page.")
    st.stop()

wanted = st.query_params.get("topic", "")
first = int(wanted) if wanted.isdigit() and int(wanted) in names else next(iter(names))
left, middle, right = st.columns([4, 5, 2])
chosen = left.multiselect(
    "Topics (pick several to compare)",
    list(names),
    default=[first],
    format_func=lambda t: plain(names[t]),
    max_selections=6,
    key="detail_topics",
)
span = middle.segmented_control(
    "Range", [*RANGES, "Custom"], default=fitting_range(first), key="detail_range"
) or fitting_range(first)
bucket = right.selectbox(
    "Bucket",
    list(trends.BUCKETS),
    index=list(trends.BUCKETS).index(DEFAULT_BUCKET[span]),
    key=f"detail_bucket_{span}",
)
if not chosen:
    st.info("Pick at least one topic.")
    st.stop()

end = window_start(data.now()) + WINDOW
if span == "Custom":
    today = end.date()
    picked = st.date_input("Days", (today - timedelta(days=3), today), max_value=today, key="detail_custom")
    if len(picked) != 2:  # a tuple, with one day while the second is being picked
        st.info("Pick the first and the last day.")
        st.stop()
    start = datetime.combine(picked[0], time.min, UTC)
    end = min(end, datetime.combine(picked[1], time.min, UTC) + timedelta(days=1))
else:
    start = end - RANGES[span]

frame = data.series(tuple(chosen), start, end, trends.BUCKETS[bucket])
markers = [
    (a.window_start, a.share_now, f"{names.get(a.topic_id, a.topic_id)}: {a.kind} ({a.state})")
    for a in data.alert_markers(tuple(chosen), start)
    if a.window_start < end
]
if frame.empty:
    st.info("No posts for these topics in this range yet.")
else:
    st.plotly_chart(
        charts.series_figure(
            frame,
            markers,
            trends.chart_span(start, end, data.first_window(tuple(chosen))),
            trends.BUCKET_SIZES[bucket],
        ),
        key="detail_chart",
    )
    st.download_button(
        "Download series as CSV",
        trends.to_csv(frame),
        file_name=f"sentimon-series-{start:%Y%m%d%H%M}.csv",
        mime="text/csv",
        key="detail_csv",
        icon=":material/download:",
    )

focus = chosen[0]
if len(chosen) > 1:
    focus = st.selectbox(
        "Posts and terms for", chosen, format_func=lambda t: plain(names[t]), key="detail_focus"
    )
st.subheader(f"Posts about {escape_markdown(names[focus])}", anchor=False)
neg_col, pos_col = st.columns(2)
for column, order, title in ((neg_col, "negative", "Most negative"), (pos_col, "positive", "Most positive")):
    with column:
        st.markdown(f"**{title}**")
        widgets.stored_posts(data.top_posts(focus, start, end, order), "None in this range.")

st.subheader("What drives the negativity", anchor=False)
recent_start = max(start, end - CURRENT)  # "now", as on the overview's tiles
found_terms, compared = data.negativity_terms(focus, recent_start, end)
st.caption(
    f"Words and word pairs carrying more of the negative weight since {widgets.when(recent_start)} "
    "than in the week before, in posts at least as negative as the rest; most certain first (z: how sure; "
    "weak: below 2). Terms that come in the same posts share a row."
)
if not compared:
    st.caption(f"No posts before {widgets.when(recent_start)} to compare with yet: drivers need a baseline.")
elif found_terms:
    rows = [
        {
            "term": escape_markdown(t.term),
            "comes with": escape_markdown(", ".join(t.companions[:4]) + (" …" * (len(t.companions) > 4))),
            "negative weight now": f"{t.spike_weight:.1f}",
            "in the week before": f"{t.base_weight:.1f}",
            "z": f"{t.z:.1f}",
            "evidence": t.strength,
        }
        for t in found_terms
    ]
    with st.container(key="detail_terms"):
        st.table(rows, border="horizontal", hide_index=True)
else:
    st.caption("Nothing stands out.")
