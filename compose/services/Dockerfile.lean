# The lean Python services, for the alpine profiles: the interpreter and its standard library
# (without its tests, IDLE, Tk, ensurepip, lib2to3 and pydoc's data), psycopg2 and redis, and
# curl (their health command), with their libraries, copied from the full Debian base onto an
# empty image (compose/images/lean-collect). The same targets as ./Dockerfile: runtime (the
# default) and dev.
ARG BASE_IMAGE=netra-example/base:bookworm
ARG LEAN_TOOLS=netra-example/lean-tools:bookworm

FROM ${LEAN_TOOLS} AS tools

FROM ${BASE_IMAGE} AS files
COPY --from=tools /lean-collect /usr/local/bin/lean-collect
RUN LEAN_EXCLUDE="/usr/lib/python3.11/test/* /usr/lib/python3.11/idlelib/* /usr/lib/python3.11/tkinter/* \
      /usr/lib/python3.11/ensurepip/* /usr/lib/python3.11/lib2to3/* /usr/lib/python3.11/pydoc_data/* \
      /usr/lib/python3.11/turtledemo/*" \
    lean-collect /lean python3 /usr/lib/python3.11 /usr/lib/python3/dist-packages curl \
 && mkdir -p /lean/etc /lean/tmp \
 && chmod 1777 /lean/tmp \
 && grep -E '^(root|nobody):' /etc/passwd > /lean/etc/passwd \
 && grep -E '^(root|nogroup):' /etc/group > /lean/etc/group
# The services run with docstrings and asserts stripped (PYTHONOPTIMIZE=2: 1.2 MB less memory
# each), from files compiled so here: what they import, imported once in the lean tree.
COPY common/ /lean/tmp/common/
RUN chroot /lean python3 -OO -c "import sys; sys.path.insert(0, '/tmp/common'); import netra_service, psycopg2, redis" \
 && rm -rf /lean/tmp/common

FROM scratch AS app
COPY --from=files /lean/ /
ARG SERVICE
ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 PYTHONOPTIMIZE=2
WORKDIR /app
COPY common/ ./
COPY ${SERVICE}/ ./
USER nobody
CMD ["python3", "app.py"]

FROM app AS dev
ENV APP_DEBUG=1

FROM app AS runtime
