"""PMS database drivers: code that connects and runs an adapter's SQL (MySQL, SQLite, ODBC)."""
