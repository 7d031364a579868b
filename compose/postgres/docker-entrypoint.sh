#!/bin/bash
# The official postgres image's contract, in short:
#  - PGDATA (default /var/lib/postgresql/data) is made and owned by postgres (a tmpfs or a
#    fresh volume starts out owned by root);
#  - if it holds no cluster: initdb with POSTGRES_USER as superuser and POSTGRES_PASSWORD,
#    host connections from anywhere with POSTGRES_HOST_AUTH_METHOD (scram-sha-256), local
#    (socket) connections trusted, listen on *, then create POSTGRES_DB;
#  - `postgres ARGS...` runs /usr/lib/postgresql/15/bin/postgres -D $PGDATA ARGS... as the
#    postgres user, in place of this script (PID 1, gets the stop signal); anything else
#    is exec'd as given.
# Not supported: /docker-entrypoint-initdb.d, POSTGRES_INITDB_WALDIR, *_FILE variables.
set -euo pipefail

PGBIN=/usr/lib/postgresql/15/bin
export PGDATA=${PGDATA:-/var/lib/postgresql/data}
POSTGRES_USER=${POSTGRES_USER:-postgres}
POSTGRES_DB=${POSTGRES_DB:-$POSTGRES_USER}
POSTGRES_HOST_AUTH_METHOD=${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}

if [ "$(id -u)" = 0 ]; then
    as_postgres=(setpriv --reuid=postgres --regid=postgres --init-groups)
else
    as_postgres=()
fi

init_cluster() {
    if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != trust ]; then
        echo "error: POSTGRES_PASSWORD is not set (set it, or POSTGRES_HOST_AUTH_METHOD=trust)" >&2
        exit 1
    fi
    echo "initializing database cluster in $PGDATA"
    local pwfile
    pwfile=$(mktemp)
    printf '%s\n' "${POSTGRES_PASSWORD:-}" >"$pwfile"
    [ "$(id -u)" != 0 ] || chown postgres "$pwfile"
    # shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is a list of words, as in the official image
    "${as_postgres[@]}" "$PGBIN/initdb" --no-sync --username="$POSTGRES_USER" --pwfile="$pwfile" \
        --auth-local=trust --auth-host="$POSTGRES_HOST_AUTH_METHOD" \
        ${POSTGRES_INITDB_ARGS:-} >/dev/null
    rm -f "$pwfile"
    printf "\nlisten_addresses = '*'\n" >>"$PGDATA/postgresql.conf"
    printf 'host all all all %s\n' "$POSTGRES_HOST_AUTH_METHOD" >>"$PGDATA/pg_hba.conf"
    if [ "$POSTGRES_DB" != postgres ]; then
        # Single-user mode: no server to start and stop, no socket to wait for.
        local ident=${POSTGRES_DB//\"/\"\"}
        printf 'CREATE DATABASE "%s";\n' "$ident" \
            | "${as_postgres[@]}" "$PGBIN/postgres" --single -D "$PGDATA" -j postgres >/dev/null
    fi
    echo "database $POSTGRES_DB ready for user $POSTGRES_USER"
}

if [ "${1:-}" = postgres ]; then
    if [ "$(id -u)" = 0 ]; then
        mkdir -p "$PGDATA" /var/run/postgresql
        chown postgres:postgres "$PGDATA" /var/run/postgresql
        chmod 700 "$PGDATA"
    fi
    if [ ! -s "$PGDATA/PG_VERSION" ]; then
        init_cluster
    fi
    exec "${as_postgres[@]}" "$PGBIN/postgres" -D "$PGDATA" "${@:2}"
fi

exec "$@"
