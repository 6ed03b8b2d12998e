"""Push: actions owed to the outside world, delivered once in effect through the outbox."""
