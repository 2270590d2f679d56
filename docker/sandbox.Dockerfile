# syntax=docker/dockerfile:1
# The Salesforce sandbox (an org emulator, docs/salesforce-sandbox.md) as a small image, for the local
# fleet (docker/compose.yaml) and tests. Never for production: it keeps its org in memory. Build from the
# repository root:
#
#   docker build -f docker/sandbox.Dockerfile -t docsend-sync-sandbox .
FROM swift:6.3-bookworm AS build
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends librabbitmq-dev libcurl4-openssl-dev libsqlite3-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
RUN swift package resolve
COPY Sources ./Sources
COPY Tests ./Tests
RUN --mount=type=cache,target=/src/.build \
    swift build -c release --static-swift-stdlib --product salesforce-sandbox \
    && install -D -m 0755 "$(swift build -c release --static-swift-stdlib --show-bin-path)/salesforce-sandbox" /out/salesforce-sandbox \
    && strip --strip-debug /out/salesforce-sandbox

# The sandbox links no C library beyond glibc and libstdc++, both in debian:bookworm-slim; curl is for the
# HEALTHCHECK.
FROM debian:bookworm-slim AS runtime
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 sandbox \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin sandbox
COPY --from=build /out/salesforce-sandbox /usr/local/bin/salesforce-sandbox
USER 10001:10001
EXPOSE 8443
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:8443/_sandbox/info"]
# Listens on every interface of the container; the org it advertises (instance_url) is set with
# PUT /_sandbox/info once the sandbox is reachable under its service name (docker/compose.yaml does).
ENTRYPOINT ["salesforce-sandbox", "--host", "0.0.0.0"]
CMD ["--port", "8443", "--seed", "activity-demo"]
