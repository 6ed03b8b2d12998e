"""`python -m tc_sync` runs the command line."""

from tc_sync.cli import main

raise SystemExit(main())
