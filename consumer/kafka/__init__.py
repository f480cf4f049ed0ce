"""Everything that talks to Kafka: the only package that imports aiokafka.

- `client`: connection settings shared by every client (bootstrap, TLS, SASL).
- `source`: the consumer of the event topics (group, batches, pause/resume, commits).
- `table`: the compacted channels topic, read from the beginning and followed live.
- `dlq`: the dead-letter producer.
"""
