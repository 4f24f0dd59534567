"""Storage: the tables, the engine and migrations, the Redis keys, and every query by domain."""
