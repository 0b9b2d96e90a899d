#!/bin/sh
# Install newswatch as a systemd service on Debian/Ubuntu; deploy/README.md
# explains every step. Run as root from a clone of the repository:
#   sudo deploy/install.sh
# ROOT=/some/dir lays the files out under another root (the tests do that) and
# leaves systemctl alone; VENV_FROM=/path/to/venv links an existing venv
# instead of building one.
set -eu

ROOT="${ROOT:-}"
SOURCE="$(cd "$(dirname "$0")/.." && pwd)"
VENV="$ROOT/opt/newswatch/venv"

# 1. A system user with no login; it owns the state folder and nothing else.
if ! getent passwd newswatch >/dev/null; then
    useradd --system --home-dir /var/lib/newswatch --no-create-home \
        --shell /usr/sbin/nologin newswatch
fi

# 2. The program in its own virtual environment, versions pinned.
install -d -m 0755 "$ROOT/opt/newswatch"
if [ -n "${VENV_FROM:-}" ]; then
    ln -sfn "$VENV_FROM" "$VENV"
else
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --upgrade pip
    "$VENV/bin/pip" install --quiet --constraint "$SOURCE/deploy/constraints.txt" "$SOURCE"
fi

# 3. Configuration (readable, no secrets) and secrets (root only; systemd reads them).
install -d -m 0755 "$ROOT/etc/newswatch"
if [ ! -e "$ROOT/etc/newswatch/newswatch.yaml" ]; then
    install -m 0644 "$SOURCE/config/newswatch.yaml" "$ROOT/etc/newswatch/newswatch.yaml"
fi
if [ ! -e "$ROOT/etc/newswatch/secrets.env" ]; then
    install -m 0600 /dev/null "$ROOT/etc/newswatch/secrets.env"
fi

# 4. The state folder: database and seed folder, private to the service.
install -d -m 0700 -o newswatch -g newswatch "$ROOT/var/lib/newswatch"
install -d -m 0750 -o newswatch -g newswatch "$ROOT/var/lib/newswatch/seeds"

# 5. The unit.
install -d -m 0755 "$ROOT/etc/systemd/system"
install -m 0644 "$SOURCE/deploy/newswatch.service" "$ROOT/etc/systemd/system/newswatch.service"
if [ -z "$ROOT" ]; then
    systemctl daemon-reload
    systemctl enable --now newswatch
    echo "newswatch is running: journalctl -u newswatch -f"
fi
