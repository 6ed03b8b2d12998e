"""tc-sync: keeps a dental treatment coordinator's follow-ups in step with the PMS."""

__version__ = "0.1.0"
