#!/usr/bin/env bash
# Make sure a Redis answers on $REDIS_URL: start a local one if it is installed but stopped,
# install it with apt if it is missing and we can, otherwise say the one command to run.
set -euo pipefail
REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"
PY="${PY:-.venv/bin/python}"

ping() {
  "$PY" - "$REDIS_URL" <<'PYEOF' >/dev/null 2>&1
import sys, redis
redis.Redis.from_url(sys.argv[1], socket_connect_timeout=1).ping()
PYEOF
}

ping && exit 0

read -r host port < <("$PY" - "$REDIS_URL" <<'PYEOF'
import sys
from urllib.parse import urlparse
u = urlparse(sys.argv[1])
print(u.hostname or "127.0.0.1", u.port or 6379)
PYEOF
)
case "$host" in
  127.*|localhost|::1) ;;
  *) echo "Redis at $REDIS_URL does not answer, and it is not on this machine: start it there." >&2; exit 1 ;;
esac

if ! command -v redis-server >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing redis-server with apt..."
    (apt-get install -y -q redis-server >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q redis-server >/dev/null; })
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo apt-get update -q >/dev/null && sudo apt-get install -y -q redis-server >/dev/null
  else
    echo "Redis is not installed. Run: sudo apt-get install -y redis-server" >&2
    exit 1
  fi
fi

mkdir -p var/redis
echo "Starting redis-server on $host:$port..."
redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --save "" --appendonly no \
  --dir "$PWD/var/redis" --logfile "$PWD/var/redis/redis.log"
for _ in $(seq 1 50); do ping && exit 0; sleep 0.1; done
echo "redis-server did not answer on $REDIS_URL; see var/redis/redis.log" >&2
exit 1
