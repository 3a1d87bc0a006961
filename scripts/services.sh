#!/usr/bin/env bash
# Start the real services the test suite needs, idempotently: each starts only when it does
# not already answer. Used by .ci/run and by developers (`make services`).
set -euo pipefail

log() { printf '[services] %s\n' "$*"; }

wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...
  local secs=$1 what=$2; shift 2
  for _ in $(seq 1 $((secs * 5))); do
    if "$@" >/dev/null 2>&1; then log "$what is up"; return 0; fi
    sleep 0.2
  done
  log "$what did not come up within ${secs}s"; return 1
}

start_docker() {
  if docker -H unix:///var/run/docker.sock info >/dev/null 2>&1; then log "dockerd already up"; return; fi
  log "starting dockerd"
  nohup dockerd --host unix:///var/run/docker.sock >/var/log/dockerd.log 2>&1 &
  wait_for 60 dockerd docker -H unix:///var/run/docker.sock info
}

start_redis() {
  if redis-cli -p 6379 ping >/dev/null 2>&1; then log "redis already up"; return; fi
  log "starting redis"
  redis-server --port 6379 --bind 127.0.0.1 --daemonize yes --save '' --appendonly no \
    --logfile /var/log/redis-dockerforge.log
  wait_for 20 redis redis-cli -p 6379 ping
}

start_postgres() {
  if pg_isready -h 127.0.0.1 -p 5432 >/dev/null 2>&1; then log "postgres already up"; else
    log "starting postgres"
    pg_ctlcluster 15 main start || true
    wait_for 30 postgres pg_isready -h 127.0.0.1 -p 5432
  fi
  # A role for the tests; each run creates its own database from it.
  su postgres -c "psql -tAc \"SELECT 1 FROM pg_roles WHERE rolname='dockerforge'\"" | grep -q 1 ||
    su postgres -c "psql -c \"CREATE ROLE dockerforge LOGIN SUPERUSER PASSWORD 'dockerforge'\"" >/dev/null
}

build_base_image() {
  # The busybox base image every test image builds on (no registry can be reached here).
  if docker image inspect dockerforge/busybox:test >/dev/null 2>&1; then log "base image present"; return; fi
  local ctx; ctx=$(mktemp -d)
  cp /bin/busybox "$ctx/busybox"
  cat >"$ctx/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
CMD ["/bin/sh"]
DOCKERFILE
  docker build -q -t dockerforge/busybox:test "$ctx" >/dev/null
  rm -rf "$ctx"
  log "built dockerforge/busybox:test"
}

for what in "${@:-docker redis postgres image}"; do
  for w in $what; do
    case "$w" in
      docker) start_docker ;;
      redis) start_redis ;;
      postgres) start_postgres ;;
      image) build_base_image ;;
      *) echo "unknown service $w" >&2; exit 2 ;;
    esac
  done
done
