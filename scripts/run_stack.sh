#!/usr/bin/env bash
# `make run`: the whole stack on one machine with embedded defaults. Ctrl-C stops it all.
# The web process is gunicorn, as in production; `make dev` (DEV=1) uses Django's
# development server instead, which reloads on every code change.
set -euo pipefail
PY="${PY:-.venv/bin/python}"
HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8000}"
export PY

VAR_DIR="${PLITKA_VAR_DIR:-var}"  # settings.py reads the same variable
mkdir -p "$VAR_DIR"
bash scripts/ensure_redis.sh
"$PY" manage.py migrate --noinput -v 0
"$PY" manage.py collectstatic --noinput -v 0  # what gunicorn serves when DEBUG=0
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

BIN="$(dirname "$PY")"
CELERY="$BIN/celery"
if [ "${DEV:-0}" = 1 ]; then
  "$PY" manage.py runserver "$HOST:$PORT" &
else
  HOST="$HOST" PORT="$PORT" "$BIN/gunicorn" -c plitka_site/gunicorn.conf.py plitka_site.wsgi \
    --access-logfile "$VAR_DIR/web.log" &
fi
pids+=($!)
# One render worker (one per GPU in production) and the one beat scheduler.
"$CELERY" -A plitka_site worker -n "render1@%h" --concurrency 1 --prefetch-multiplier 1 \
  -Q render.interactive,render.batch,maintenance --loglevel INFO >"$VAR_DIR/worker.log" 2>&1 &
pids+=($!)
# Webhook deliveries wait on other people's servers: threads, apart from the renders.
"$CELERY" -A plitka_site worker -n "hooks1@%h" --pool threads --concurrency 4 \
  -Q webhooks --loglevel INFO >"$VAR_DIR/webhooks.log" 2>&1 &
pids+=($!)
"$CELERY" -A plitka_site beat --loglevel INFO >"$VAR_DIR/beat.log" 2>&1 &
pids+=($!)

key=$(sed -n 's/^Demo API key: //p' <<<"$access")
cat <<INFO

Plitka is running (Ctrl-C stops everything):
  Web:      http://$HOST:$PORT/
  Admin:    http://$HOST:$PORT/admin/   (operations dashboard: /admin/operations/)
  Configurator: http://$HOST:$PORT/configurator/
  API docs: http://$HOST:$PORT/api/docs/
  Logs: $VAR_DIR/web.log (requests), $VAR_DIR/worker.log, $VAR_DIR/webhooks.log,
        $VAR_DIR/beat.log
$access
Try:
  curl -H "Authorization: Api-Key $key" http://$HOST:$PORT/api/v1/colors/
  curl -H "Authorization: Api-Key $key" -H 'Content-Type: application/json' \\
       -d '{"product": "SQ-500-30", "recipe": "RED:60,BLACK:40", "view": "perspective"}' \\
       http://$HOST:$PORT/api/v1/renders/

INFO
wait -n "${pids[@]}"
