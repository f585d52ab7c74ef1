"""The desk's local journal: its own alerts (the outbox) and what it last knew of the hub."""
