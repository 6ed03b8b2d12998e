"""PMS database drivers: code that connects and runs an adapter's SQL (MySQL, SQLite, ODBC).

- `base`: the contract every driver keeps (run a statement, read the server's clock);
- `registry`: which class a source's `connection.driver` names, and which adapters it runs;
- `retrying`: the base of the MySQL and ODBC drivers: retries with backoff, reconnecting;
- `mysql`, `sqlite`, `odbc` (with `dialect` and `catalog`): one file per driver.
"""
