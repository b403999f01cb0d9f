# syntax=docker/dockerfile:1
#
# Teleconsultation Service Backend: production image.
#   docker build -t teleconsultation-service-backend:3.0.0 --build-arg COMMIT_SHA=$(git rev-parse HEAD) .
# tests/deploy/deploy.test.ts reproduces these steps without a Docker engine (production install,
# compiled output, file permissions, start as a non-root user, HEALTHCHECK command).

# Node 24 LTS on Debian 13 slim, pinned by version. Pin it by digest as well where you build
# (`node:24.21.0-trixie-slim@sha256:<digest>`): the digest could not be resolved where this file
# was written, which has no access to a container registry.
ARG NODE_IMAGE=node:24.21.0-trixie-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.build.json ./
COPY scripts/lib/build.mjs ./scripts/lib/build.mjs
COPY src ./src
RUN npm run build

FROM ${NODE_IMAGE}
# tini as PID 1: forwards SIGTERM to node (graceful shutdown) and reaps zombies.
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini \
  && rm -rf /var/lib/apt/lists/*

ENV NODE_ENV=production \
    HTTP_PORT=3000 \
    LOG_LEVEL=info \
    SERVICE_PREFIX=/

LABEL maintainer="Teleconsultation Service Backend maintainers" \
      name="teleconsultation-service-backend" \
      description="Schedules video teleconsultations on Kaleyra Video; drop-in replacement for Mia-Platform's Teleconsultation Service Backend 2.1" \
      eu.mia-platform.url="https://www.mia-platform.eu" \
      eu.mia-platform.version="3.0.0" \
      org.opencontainers.image.title="teleconsultation-service-backend" \
      org.opencontainers.image.version="3.0.0" \
      org.opencontainers.image.licenses="Apache-2.0"

# Files stay owned by root and read-only for the user that runs the service.
WORKDIR /home/node/app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
  && npm cache clean --force
COPY --from=build /build/dist ./dist
ARG COMMIT_SHA=unknown
RUN echo "${COMMIT_SHA}" > commit.sha

USER node
EXPOSE 3000
# Docker and Compose use this; Kubernetes ignores it and uses the probes (docs/operations.md).
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 CMD ["node", "dist/healthcheck.js"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/server.js"]
