"""Every Prometheus metric the service exports, declared in one place.

Labels never carry a secret: no URL, no chat id. `channel_id` is the operator's own name for a
channel (from the channels file), which is not a secret.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

records_consumed = Counter(
    "webhook_records_consumed_total", "Records read from Kafka", ["topic"], registry=REGISTRY
)
records_decoded = Counter(
    "webhook_records_decoded_total",
    "Records decoded into valid events",
    ["topic"],
    registry=REGISTRY,
)
records_poison = Counter(
    "webhook_records_poison_total",
    "Records that were not valid events",
    ["topic"],
    registry=REGISTRY,
)
dlq_published = Counter(
    "webhook_dlq_published_total",
    "Poison records written to the dead-letter topic",
    ["outcome"],
    registry=REGISTRY,
)
notifications_fired = Counter(
    "webhook_notifications_total",
    "Events that fired a notification",
    ["kind"],
    registry=REGISTRY,
)
notifications_unrouted = Counter(
    "webhook_notifications_unrouted_total",
    "Fired notifications whose project has no active channel",
    ["kind"],
    registry=REGISTRY,
)
deliveries = Counter(
    "webhook_deliveries_total",
    "Delivery attempts by outcome (one per channel per notification)",
    ["channel_type", "outcome"],
    registry=REGISTRY,
)
delivery_duration = Histogram(
    "webhook_delivery_duration_seconds",
    "Time from start to end of one channel's delivery",
    ["channel_type"],
    registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 7.5),
)
circuit_open = Gauge(
    "webhook_circuit_open",
    "1 while a channel's circuit is open (sends skipped)",
    ["channel_id"],
    registry=REGISTRY,
)
in_flight = Gauge("webhook_in_flight", "Records being processed now", registry=REGISTRY)
commit_lag = Gauge(
    "webhook_commit_lag",
    "Records fetched but not yet committed, per partition",
    ["topic", "partition"],
    registry=REGISTRY,
)
commits = Counter(
    "webhook_commits_total", "Offset commits by outcome", ["outcome"], registry=REGISTRY
)
channels = Gauge(
    "webhook_channels", "Channels in the directory", ["type", "active"], registry=REGISTRY
)
