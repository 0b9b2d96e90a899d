"""Operations: what the daemon tells its supervisor (systemd readiness, watchdog, status)."""
