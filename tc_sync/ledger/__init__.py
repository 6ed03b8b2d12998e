"""The coordination ledger: replica of PMS records per source, cursors, sync runs, quarantine."""
