"""A PMS is its adapter folder (adapters/<kind>/): a manifest and one SQL file per stream.

- `registry`: which PMSs exist (one per folder, the site's or shipped), what messages call
  them, and the check of a configuration's kinds, drivers and task targets against them;
- `manifest`: the manifest's model and the SQL chosen for the PMS's schema version;
- `loading`: reading and checking a folder, with a site's overrides, once per change;
- `names`: the logical table and column names the SQL is written with, rendered for a site;
- `overrides`: a site's own table and column names, codes and cursors (ODBC PMSs);
- `convert`: a PMS row to a canonical record, or a quarantined row naming its field.
"""
