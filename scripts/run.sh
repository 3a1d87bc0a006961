#!/usr/bin/env bash
# `make run`: daphne (HTTP + WebSockets), the events listener, a Celery worker and Celery beat under honcho.
# With REDIS_URL unset, a private redis-server is started on a socket under var/ when one is
# installed; with no Redis at all the portal still starts, degraded (tasks run in-process).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
VAR=${DOCKERFORGE_VAR_DIR:-$ROOT/var}
mkdir -p "$VAR"
BIN=$ROOT/.venv/bin
PORT=${PORT:-8000}
BIND=${BIND:-127.0.0.1}
PROCFILE=$VAR/Procfile

: > "$PROCFILE"
if [ -z "${REDIS_URL:-}" ]; then
  if command -v redis-server >/dev/null 2>&1; then
    export REDIS_URL="unix://$VAR/redis.sock"
    echo "redis: redis-server --port 0 --unixsocket $VAR/redis.sock --unixsocketperm 700 --dir $VAR --save '' --appendonly no" >> "$PROCFILE"
  else
    echo "WARNING: no REDIS_URL and no redis-server: starting degraded (tasks run in the web process, no beat)." >&2
  fi
fi
echo "web: $BIN/daphne -b $BIND -p $PORT dockerforge.asgi:application" >> "$PROCFILE"
# The Docker events listener needs only the database (leases make extra copies harmless).
echo "listener: $BIN/python manage.py run_listeners" >> "$PROCFILE"
if [ -n "${REDIS_URL:-}" ]; then
  echo "worker: $BIN/celery -A dockerforge worker -l info --concurrency ${WORKER_CONCURRENCY:-2}" >> "$PROCFILE"
  echo "beat: $BIN/celery -A dockerforge beat -l info" >> "$PROCFILE"
fi

echo
echo "  DockerForge is starting at http://$BIND:$PORT/  (Ctrl-C stops every process)"
echo
exec "$BIN/honcho" -f "$PROCFILE" -d "$ROOT" start
