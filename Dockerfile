# The service image: `reckon` built with its dashboard, plus `reckon-job` for
# `worker.launcher = "process"`, on a small non-root runtime.
#   docker build -t reckon .
# The jobs image (one sync task per container) is jobs/Dockerfile.
FROM rust:1-bookworm AS build
# build.rs builds the dashboard with npm; Vite needs a current Node.
COPY --from=node:22-bookworm-slim /usr/local/bin/node /usr/local/bin/node
COPY --from=node:22-bookworm-slim /usr/local/lib/node_modules /usr/local/lib/node_modules
RUN ln -s /usr/local/lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin reckon -p reckon -p reckon-jobs \
    && strip target/release/reckon target/release/reckon-job

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home /var/lib/reckon reckon \
    && mkdir -p /var/lib/reckon && chown reckon /var/lib/reckon
COPY --from=build /src/target/release/reckon /src/target/release/reckon-job /usr/local/bin/
USER reckon
WORKDIR /var/lib/reckon
ENV RECKON_DATA_DIR=/var/lib/reckon RECKON_LISTEN=0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["reckon"]
CMD ["serve"]
