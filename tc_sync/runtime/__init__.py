"""Running unattended: the scheduler daemon, its lock, quiet windows and graceful stop."""
