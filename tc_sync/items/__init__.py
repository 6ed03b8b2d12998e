"""Coordination items: every follow-up owed, opened, changed and resolved from the ledger."""
