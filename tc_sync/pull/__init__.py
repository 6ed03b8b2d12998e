"""The pull: a source's PMS rows into the ledger's replica, stream by stream.

- `run`: one source's run (`sync_source`): its driver, version check, every stream, the run's
  record; a failed or partial run is recorded as such;
- `stream`: one stream, batch by batch, each batch committed with its cursor;
- `cursors`: where each stream stands (pure functions of the cursor);
- `key_windows`: reading key windows side by side on extra PMS connections;
- `deletes`: finding rows the PMS deleted, by key counts per window;
- `progress`: how a long pull stands, for a terminal or the log.
"""
