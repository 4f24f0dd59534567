"""Sinks: where processed batches go (the database of record and the live views), one contract."""
