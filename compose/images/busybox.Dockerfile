# netra-example/busybox:1.35: a static busybox FROM scratch (about 2 MB).
# Build context: a directory holding the static `busybox` binary (scripts/build-images makes it).
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
ENV PATH=/bin
LABEL io.netra-stack.example-image=busybox
CMD ["sh"]
