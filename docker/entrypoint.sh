#!/usr/bin/env bash
# Container start: bring the database schema to the newest migration, then serve.
#
# With no arguments it runs gunicorn; with arguments it runs them instead, after init-db
# (e.g. `docker compose run --rm app cardio create-user --role admin --username NAME`).
#
# CARDIO_SKIP_INIT_DB=1         skip `cardio init-db`
# CARDIO_INIT_DB_ATTEMPTS=10    tries while the database is still starting
# CARDIO_INIT_DB_DELAY=3        seconds between tries
set -euo pipefail
umask 077  # files the portal writes (database, recordings, PDFs) are readable by it only

if [[ "${CARDIO_SKIP_INIT_DB:-0}" != "1" ]]; then
    attempts="${CARDIO_INIT_DB_ATTEMPTS:-10}"
    delay="${CARDIO_INIT_DB_DELAY:-3}"
    attempt=1
    while true; do
        status=0
        cardio init-db || status=$?
        if [[ "$status" -eq 0 ]]; then
            break
        fi
        if [[ "$status" -eq 2 ]]; then
            # Configuration or usage error (e.g. SECRET_KEY missing): retrying cannot help.
            echo "entrypoint: 'cardio init-db' reported a configuration error; not retrying." >&2
            exit 2
        fi
        if (( attempt >= attempts )); then
            echo "entrypoint: 'cardio init-db' failed ${attempt} times; giving up." >&2
            exit "$status"
        fi
        echo "entrypoint: 'cardio init-db' failed (try ${attempt}/${attempts});" \
            "retrying in ${delay}s while the database starts." >&2
        sleep "$delay"
        attempt=$((attempt + 1))
    done
fi

if (( $# > 0 )); then
    exec "$@"
fi

exec gunicorn --config /app/docker/gunicorn.conf.py "portal.wsgi:app"
