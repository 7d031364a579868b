# The lean Redis 7, for the alpine profiles: redis-server and redis-cli (its health command)
# with their libraries, copied from the full Debian base onto an empty image
# (compose/images/lean-collect). On a machine that can pull, RUNTIME=redis:7-alpine builds the
# official image's variant instead.
ARG BASE_IMAGE=netra-example/base:bookworm
ARG LEAN_TOOLS=netra-example/lean-tools:bookworm
ARG RUNTIME=lean

FROM ${LEAN_TOOLS} AS tools

FROM ${BASE_IMAGE} AS files
COPY --from=tools /lean-collect /usr/local/bin/lean-collect
RUN lean-collect /lean redis-server redis-cli \
 && mkdir -p /lean/etc /lean/tmp /lean/var/lib/redis \
 && chmod 1777 /lean/tmp \
 && chown redis:redis /lean/var/lib/redis \
 && grep -E '^(root|redis):' /etc/passwd > /lean/etc/passwd \
 && grep -E '^(root|redis):' /etc/group > /lean/etc/group

FROM scratch AS lean
COPY --from=files /lean/ /
USER redis
WORKDIR /var/lib/redis
EXPOSE 6379
CMD ["redis-server", "--bind", "0.0.0.0", "--protected-mode", "no"]

FROM ${RUNTIME}
