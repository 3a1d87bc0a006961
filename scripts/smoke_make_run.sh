#!/usr/bin/env bash
# Smoke test of the real thing (DESIGN.md, Tests): `make run` from a clean clone comes up,
# serves a page, and its worker runs a task; web and worker share SECRET_KEY and the
# encryption keys (a secret saved through the web process is read by the worker).
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/df-smoke.XXXXXX)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
PASSWORD="smoke-$(date +%s)-pw"
cleanup() {
  if [ -n "${RUN_PID:-}" ]; then kill -TERM -- "-$RUN_PID" 2>/dev/null || true; sleep 2; kill -KILL -- "-$RUN_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

git clone -q "$SRC" "$WORK/repo"
cd "$WORK/repo"
# Reuse the wheels pip already downloaded; the clone still gets its own fresh .venv.
echo "[smoke] make run on port $PORT in $WORK/repo"
setsid env -u REDIS_URL -u DATABASE_URL -u DOCKERFORGE_REDIS_PREFIX \
  DOCKERFORGE_ADMIN_PASSWORD="$PASSWORD" DOCKERFORGE_OUTBOUND_ALLOW=127.0.0.0/8 PORT="$PORT" \
  make run >"$WORK/run.log" 2>&1 &
RUN_PID=$!

ok=0
for _ in $(seq 1 600); do
  if curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; then ok=1; break; fi
  if ! kill -0 "$RUN_PID" 2>/dev/null; then break; fi
  sleep 0.5
done
if [ $ok -ne 1 ]; then echo "[smoke] portal did not come up"; tail -50 "$WORK/run.log"; exit 1; fi
echo "[smoke] portal is up"
if ! "$WORK/repo/.venv/bin/python" "$SRC/scripts/smoke_check.py" "http://127.0.0.1:$PORT" admin "$PASSWORD"; then
  echo "[smoke] checks failed; last lines of make run:"; tail -60 "$WORK/run.log"; exit 1
fi
grep -q "DockerForge is starting at http://127.0.0.1:$PORT/" "$WORK/run.log" || { echo "[smoke] URL not printed"; exit 1; }
echo "1 passed, 0 failed"
