"""Where outbox actions go: Open Dental (API or direct), email, chat webhooks."""
