"""Watching tc-sync run: PHI-safe logs, Sentry with check-ins, /healthz and /metrics, alerts."""
