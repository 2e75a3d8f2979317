#!/usr/bin/env bash
# `make run`: the whole stack on one machine with embedded defaults. Ctrl-C stops it all.
set -euo pipefail
PY="${PY:-.venv/bin/python}"
HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8000}"
export PY

VAR_DIR="${PLITKA_VAR_DIR:-var}"  # settings.py reads the same variable
mkdir -p "$VAR_DIR"
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

CELERY="$(dirname "$PY")/celery"
"$PY" manage.py runserver "$HOST:$PORT" --noreload &
pids+=($!)
# One render worker (one per GPU in production) and the one beat scheduler.
"$CELERY" -A plitka_site worker -n "render1@%h" --concurrency 1 --prefetch-multiplier 1 \
  -Q render.interactive,render.batch,maintenance --loglevel INFO >"$VAR_DIR/worker.log" 2>&1 &
pids+=($!)
"$CELERY" -A plitka_site beat --loglevel INFO >"$VAR_DIR/beat.log" 2>&1 &
pids+=($!)

key=$(sed -n 's/^Demo API key: //p' <<<"$access")
cat <<INFO

Plitka is running (Ctrl-C stops everything):
  Web:      http://$HOST:$PORT/
  Admin:    http://$HOST:$PORT/admin/
  API docs: http://$HOST:$PORT/api/docs/
  Worker and beat logs: $VAR_DIR/worker.log, $VAR_DIR/beat.log
$access
Try:
  curl -H "Authorization: Api-Key $key" http://$HOST:$PORT/api/v1/colors/
  curl -H "Authorization: Api-Key $key" -H 'Content-Type: application/json' \\
       -d '{"product": "SQ-500-30", "recipe": "RED:60,BLACK:40", "view": "perspective"}' \\
       http://$HOST:$PORT/api/v1/renders/

INFO
wait -n "${pids[@]}"
