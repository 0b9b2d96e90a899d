"""Alert sinks and the outbox that feeds them."""
