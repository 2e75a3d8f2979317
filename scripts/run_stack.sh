#!/usr/bin/env bash
# `make run`: the whole stack on one machine with embedded defaults. Ctrl-C stops it all.
set -euo pipefail
PY="${PY:-.venv/bin/python}"
HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8000}"
export PY

mkdir -p var
bash scripts/ensure_redis.sh
"$PY" manage.py migrate --noinput -v 0
"$PY" manage.py load_demo_catalog
access=$("$PY" manage.py demo_access)

pids=()
stop() {
  trap - INT TERM EXIT
  echo; echo "Stopping..."
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

"$PY" manage.py runserver "$HOST:$PORT" --noreload &
pids+=($!)

key=$(sed -n 's/^Demo API key: //p' <<<"$access")
cat <<INFO

Plitka is running (Ctrl-C stops everything):
  Web:      http://$HOST:$PORT/
  Admin:    http://$HOST:$PORT/admin/
  API docs: http://$HOST:$PORT/api/docs/
$access
Try:
  curl -H "Authorization: Api-Key $key" http://$HOST:$PORT/api/v1/colors/

INFO
wait -n "${pids[@]}"
