# Builds the gateway and serves the example bundle; mount your own bundles over /bundles.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release -p gateway

FROM debian:bookworm-slim
COPY --from=build /src/target/release/gateway /usr/local/bin/gateway
COPY examples/rbac /bundles/rbac
EXPOSE 8181
ENTRYPOINT ["gateway", "run", "--addr", "0.0.0.0:8181"]
CMD ["--bundle", "/bundles/rbac"]
