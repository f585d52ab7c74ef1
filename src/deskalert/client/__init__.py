"""Talking to the hub: settings, the typed HTTP client, the outbox. Importable without Textual."""
