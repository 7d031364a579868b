# The lean PostgreSQL 15, for the alpine profiles: the server, the tools its entrypoint and health
# command run, their libraries and data files, copied from the full Debian base onto an empty
# image (compose/images/lean-collect), with the same entrypoint, contract and build-time
# cluster as ./Dockerfile. On a machine that can pull, RUNTIME=postgres:15-alpine builds the
# official image's variant instead (same variables and health command; it runs initdb at start).
ARG BASE_IMAGE=netra-example/base:bookworm
ARG LEAN_TOOLS=netra-example/lean-tools:bookworm
ARG RUNTIME=lean

FROM ${LEAN_TOOLS} AS tools

FROM ${BASE_IMAGE} AS files
COPY --from=tools /lean-collect /usr/local/bin/lean-collect
# The template cluster with 1 MB WAL segments (not 16), one of them left (pg_resetwal, on the
# cleanly stopped cluster; initdb leaves 5) and 2 kept after a checkpoint (not 5): a copy in a
# tmpfs, as the alpine-test profile mounts one, takes 19 MB less memory.
RUN mkdir -p /var/lib/postgresql/template \
 && chown postgres:postgres /var/lib/postgresql/template \
 && setpriv --reuid=postgres --regid=postgres --init-groups \
      /usr/lib/postgresql/15/bin/initdb --no-sync -D /var/lib/postgresql/template --username=postgres \
      --auth-local=trust --wal-segsize=1 >/dev/null \
 && echo "min_wal_size = 2MB" >>/var/lib/postgresql/template/postgresql.conf \
 && setpriv --reuid=postgres --regid=postgres --init-groups \
      /usr/lib/postgresql/15/bin/pg_resetwal -D /var/lib/postgresql/template >/dev/null
COPY docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
# Not the JIT (it loads LLVM, 100 MB) nor its bitcode: the server runs without them.
RUN LEAN_EXCLUDE="/usr/lib/postgresql/15/lib/llvmjit* /usr/lib/postgresql/15/lib/bitcode/*" \
    lean-collect /lean /usr/local/bin/docker-entrypoint.sh /var/lib/postgresql/template \
      /usr/lib/postgresql/15/bin/postgres /usr/lib/postgresql/15/bin/initdb /usr/lib/postgresql/15/bin/pg_isready \
      /usr/lib/postgresql/15/bin/psql /usr/lib/postgresql/15/lib /usr/share/postgresql/15 /usr/share/zoneinfo \
      bash sh setpriv cp mkdir chown chmod id mktemp rm \
 && mkdir -p /lean/etc /lean/tmp /lean/var/run/postgresql /lean/var/lib/postgresql/data \
 && chmod 1777 /lean/tmp \
 && chown postgres:postgres /lean/var/run/postgresql /lean/var/lib/postgresql /lean/var/lib/postgresql/data \
 && grep -E '^(root|postgres):' /etc/passwd > /lean/etc/passwd \
 && grep -E '^(root|postgres|ssl-cert):' /etc/group > /lean/etc/group

FROM scratch AS lean
COPY --from=files /lean/ /
ENV PATH=/usr/local/bin:/usr/lib/postgresql/15/bin:/usr/bin \
    PGDATA=/var/lib/postgresql/data
# Postgres' "fast shutdown": SIGTERM would wait for every client to disconnect.
STOPSIGNAL SIGINT
EXPOSE 5432
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["postgres"]

FROM ${RUNTIME}
