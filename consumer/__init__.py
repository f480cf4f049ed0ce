"""transcodes-webhooks: turns Transcodes auth and audit events on Kafka into chat notifications."""

__version__ = "0.1.0"

__all__ = ["__version__"]
