"""The embedded default: the same core over an in-process queue, SQLite and an in-memory live view."""
