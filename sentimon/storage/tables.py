"""Every table, in one place: SQLAlchemy Core definitions shared by Postgres and SQLite."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)

from sentimon.quantify import QUANT_SUMS

# Integer on SQLite so that primary keys autoincrement there too.
BigId = BigInteger().with_variant(Integer(), "sqlite")
TZ = DateTime(timezone=True)


def _post_columns() -> list[Column[Any]]:
    """A row id and a post's identity and text, alike wherever a post is kept (posts, labels)."""
    return [
        Column("id", BigId, primary_key=True, autoincrement=True),
        Column("source", String(32), nullable=False),
        Column("post_id", String(256), nullable=False),
        Column("text", Text, nullable=False),
    ]


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

topics = Table(
    "topics",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("rule", Text, nullable=False),
    Column("active", Boolean, nullable=False, server_default=text("true")),
    Column("alert_config", JSON, nullable=False, default=dict),
    Column("silenced_until", TZ),
    Column("created_at", TZ, nullable=False, server_default=func.now()),
    Column("updated_at", TZ, nullable=False, server_default=func.now()),
)

posts = Table(
    "posts",
    metadata,
    *_post_columns(),
    Column("author", String(256)),
    Column("url", String(2048)),
    Column("lang", String(16)),
    Column("created_at", TZ, nullable=False),
    Column("scored_at", TZ, nullable=False, server_default=func.now()),
    Column("label", String(8), nullable=False),
    Column("p_neg", Float, nullable=False),
    Column("p_neu", Float, nullable=False),
    Column("p_pos", Float, nullable=False),
    Column("model_version", String(64), nullable=False),
    Column("topic_ids", JSON, nullable=False, default=list),
    Column("meta", JSON, nullable=False, default=dict),
    # What an edit or deletion at the source needs to take the post back out of its windows exactly.
    Column("quant", JSON),  # its corrected sums, in sentimon.quantify.QUANT_SUMS order
    Column("version", String(128)),  # the source's version of the text it was scored on
    Column("deleted_at", TZ),  # deleted at the source: out of every window and every list
    UniqueConstraint("source", "post_id", name="uq_posts_source_post_id"),
    Index("ix_posts_created_at", "created_at"),
)

topic_windows = Table(
    "topic_windows",
    metadata,
    Column("topic_id", Integer, ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True),
    Column("window_start", TZ, primary_key=True),
    Column("n", Integer, nullable=False, default=0),
    Column("n_neg", Integer, nullable=False, default=0),
    Column("n_neu", Integer, nullable=False, default=0),
    Column("n_pos", Integer, nullable=False, default=0),
    Column("sum_neg", Float, nullable=False, default=0.0),
    Column("sum_neu", Float, nullable=False, default=0.0),
    Column("sum_pos", Float, nullable=False, default=0.0),
    # What the per-topic share estimators need beside counts and sums (sentimon/quantify.py).
    *(Column(name, Float, nullable=False, default=0.0, server_default="0") for name in QUANT_SUMS),
    Column("top_neg_post", BigId, ForeignKey("posts.id", ondelete="SET NULL")),
    Column("top_neg_score", Float),
    Column("top_pos_post", BigId, ForeignKey("posts.id", ondelete="SET NULL")),
    Column("top_pos_score", Float),
    Column("rev", BigInteger, nullable=False, default=0, server_default="0"),  # changes applied so far
)

alerts = Table(
    "alerts",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("topic_id", Integer, ForeignKey("topics.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("state", String(16), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("window_start", TZ, nullable=False),
    Column("opened_at", TZ, nullable=False, server_default=func.now()),
    Column("fired_at", TZ),
    Column("resolved_at", TZ),
    Column("share_now", Float),
    Column("baseline", Float),
    Column("volume", Integer),
    Column("explanation", JSON, nullable=False, default=dict),
    Column("acked_by", String(64)),
    Column("acked_at", TZ),
    Column("resolved_by", String(64)),
    Column("notified_at", TZ),
    Index(
        "uq_alerts_one_open",
        "topic_id",
        "kind",
        unique=True,
        postgresql_where=text("state <> 'resolved'"),
        sqlite_where=text("state <> 'resolved'"),
    ),
)

alert_deliveries = Table(
    "alert_deliveries",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("alert_id", BigId, ForeignKey("alerts.id", ondelete="CASCADE"), nullable=False),
    Column("sink", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("at", TZ, nullable=False, server_default=func.now()),
    Column("event", String(16)),
    Column("target", String(512)),
    Index("ix_alert_deliveries_status", "status"),
)

# The spike detector's small serialised state per topic, so any worker can resume where the last stopped.
alert_detector_state = Table(
    "alert_detector_state",
    metadata,
    Column("topic_id", Integer, ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True),
    Column("kind", String(32), primary_key=True),
    Column("state", JSON, nullable=False, default=dict),
    Column("last_window", TZ),
    Column("updated_at", TZ, nullable=False, server_default=func.now()),
)

labels = Table(
    "labels",
    metadata,
    *_post_columns(),
    Column("label", String(8), nullable=False),
    Column("labelled_by", String(64), nullable=False),
    Column("origin", String(16), nullable=False, server_default="dashboard"),
    Column("created_at", TZ, nullable=False, server_default=func.now()),
    Column("used_by_model", String(64)),
    Index("ix_labels_source_post", "source", "post_id"),
)

model_versions = Table(
    "model_versions",
    metadata,
    Column("version", String(64), primary_key=True),
    Column("path", Text, nullable=False),
    Column("status", String(16), nullable=False, server_default="candidate"),
    Column("metrics", JSON, nullable=False, default=dict),
    Column("note", Text),
    Column("created_at", TZ, nullable=False, server_default=func.now()),
    Column("promoted_at", TZ),
)

dead_letters = Table(
    "dead_letters",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("reason", Text, nullable=False),
    Column("raw", LargeBinary, nullable=False),
    Column("origin", String(128)),
    Column("at", TZ, nullable=False, server_default=func.now()),
)

# ---- accounts, sign-in sessions, throttling and the audit log (0004_accounts) ------------------

users = Table(
    "users",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("role", String(8), nullable=False),
    Column("password_hash", String(128)),  # bcrypt; empty for identities that sign in through OIDC
    Column("created_at", TZ, nullable=False, server_default=func.now()),
    Column("updated_at", TZ, nullable=False, server_default=func.now()),
)

auth_sessions = Table(
    "auth_sessions",
    metadata,
    Column("id", String(64), primary_key=True),  # sha256 of the random token the browser keeps
    Column("user_name", String(64), nullable=False),
    Column("role", String(8), nullable=False),
    Column("created_at", TZ, nullable=False, server_default=func.now()),
    Column("expires_at", TZ, nullable=False),
    Column("revoked_at", TZ),
    Index("ix_auth_sessions_user_name", "user_name"),
)

login_throttle = Table(
    "login_throttle",
    metadata,
    Column("key", String(160), primary_key=True),  # "name:<casefolded name>" or "client:<address>"
    Column("failures", Integer, nullable=False, server_default="0"),
    Column("last_failure_at", TZ, nullable=False),
    Column("locked_until", TZ),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("at", TZ, nullable=False, server_default=func.now()),
    Column("actor", String(64), nullable=False),
    Column("role", String(8)),
    Column("action", String(32), nullable=False),
    Column("target", Text),
    Column("detail", JSON, nullable=False, default=dict),
    Column("client", String(64)),
    Index("ix_audit_log_at", "at"),
)
