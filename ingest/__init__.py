"""Ingest adapters: turn each source into `Post`s and produce them to Kafka `posts.raw`."""
