"""Synthetic Open Dental fixtures: the schema tc-sync reads and a generated demo practice."""
