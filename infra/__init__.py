"""The local real stack (Kafka, Postgres, Redis on loopback) and the production packaging."""
