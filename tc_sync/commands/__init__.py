"""One module per CLI command: each turns settings into output and an exit code."""
