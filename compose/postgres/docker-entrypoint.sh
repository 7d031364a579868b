#!/bin/bash
# The official postgres image's contract, in short:
#  - PGDATA (default /var/lib/postgresql/data) is made and owned by postgres (a tmpfs or a
#    fresh volume starts out owned by root);
#  - if it holds no cluster: one with POSTGRES_USER as superuser and POSTGRES_PASSWORD, host
#    connections from anywhere with POSTGRES_HOST_AUTH_METHOD (scram-sha-256), local (socket)
#    connections trusted, listening on *, and POSTGRES_DB; copied from the cluster the image
#    made at build time (initdb only when POSTGRES_INITDB_ARGS is set), so that a fresh
#    container is ready in a fraction of initdb's time;
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
TEMPLATE=/var/lib/postgresql/template

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
    if [ -d "$TEMPLATE" ] && [ -z "${POSTGRES_INITDB_ARGS:-}" ]; then
        copy_template
    else
        run_initdb
    fi
    printf "\nlisten_addresses = '*'\n" >>"$PGDATA/postgresql.conf"
    printf 'host all all all %s\n' "$POSTGRES_HOST_AUTH_METHOD" >>"$PGDATA/pg_hba.conf"
    echo "database $POSTGRES_DB ready for user $POSTGRES_USER"
}

# The image's cluster, made at build time by initdb with the bootstrap superuser `postgres`:
# copying it takes a fraction of initdb's 2 s. POSTGRES_USER becomes a second superuser with
# POSTGRES_PASSWORD, and owns POSTGRES_DB.
copy_template() {
    echo "initializing database cluster in $PGDATA (from the image's template cluster)"
    "${as_postgres[@]}" cp -a "$TEMPLATE/." "$PGDATA/"
    printf 'local all all trust\nhost all all 127.0.0.1/32 %s\nhost all all ::1/128 %s\n' \
        "$POSTGRES_HOST_AUTH_METHOD" "$POSTGRES_HOST_AUTH_METHOD" >"$PGDATA/pg_hba.conf"
    local user=${POSTGRES_USER//\"/\"\"} db=${POSTGRES_DB//\"/\"\"} quote="'" password="" sql=""
    if [ -n "${POSTGRES_PASSWORD:-}" ]; then
        password=" PASSWORD '${POSTGRES_PASSWORD//$quote/$quote$quote}'"
    fi
    if [ "$POSTGRES_USER" = postgres ]; then
        [ -z "$password" ] || sql+="ALTER ROLE postgres$password;"$'\n\n'
    else
        sql+="CREATE ROLE \"$user\" SUPERUSER LOGIN$password;"$'\n\n'
    fi
    # FILE_COPY: the template's files copied, not written again into the WAL (7 MB).
    [ "$POSTGRES_DB" = postgres ] || sql+="CREATE DATABASE \"$db\" OWNER \"$user\" STRATEGY FILE_COPY;"$'\n\n'
    # Single-user mode: no server to start and stop, no socket to wait for.
    [ -z "$sql" ] || printf '%s' "$sql" | "${as_postgres[@]}" "$PGBIN/postgres" --single -D "$PGDATA" -j postgres >/dev/null
}

run_initdb() {
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
    if [ "$POSTGRES_DB" != postgres ]; then
        local ident=${POSTGRES_DB//\"/\"\"}
        printf 'CREATE DATABASE "%s";\n' "$ident" \
            | "${as_postgres[@]}" "$PGBIN/postgres" --single -D "$PGDATA" -j postgres >/dev/null
    fi
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
