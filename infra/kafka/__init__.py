"""Apache Kafka for the local stack: jars from Maven Central, config templates, broker control."""
