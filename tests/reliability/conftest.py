"""The reliability suite: crash, fault and soak scenarios (tests/conftest.py prints the table)."""
