# netra-example/base:bookworm, the way a machine that can pull makes it.
# scripts/build-images uses this file when `docker pull debian:bookworm-slim` works;
# otherwise it makes the same image with debootstrap + `docker import`.
FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      postgresql-15 redis-server python3 python3-psycopg2 python3-redis curl \
 && rm -rf /var/lib/apt/lists/*
LABEL io.netra-stack.example-image=base
CMD ["bash"]
