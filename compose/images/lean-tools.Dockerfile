# netra-example/lean-tools:bookworm: lean-collect alone, for the build stage of each lean
# Dockerfile (compose/*/Dockerfile.lean: `COPY --from=tools`). Built by scripts/build-images
# from compose/images/, again whenever lean-collect changes.
FROM scratch
COPY lean-collect /lean-collect
