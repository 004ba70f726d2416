"""The CDC lane: PostgreSQL logical decoding and Debezium events merged into Iceberg mirrors."""
