# syntax=docker/dockerfile:1
# Gatehouse image. System packages come from scripts/install-system-deps.sh, the same script CI and the
# README commands use, so the image cannot drift from what is tested.

FROM node:20-bookworm AS build
WORKDIR /src
COPY scripts/install-system-deps.sh scripts/
RUN bash scripts/install-system-deps.sh build
COPY package.json package-lock.json ./
COPY . .
# prepare (scripts/build.mjs) compiles the TypeScript and the native addon.
RUN npm ci && npm prune --omit=dev

FROM node:20-bookworm-slim AS runtime
WORKDIR /opt/gatehouse
COPY scripts/install-system-deps.sh scripts/
RUN bash scripts/install-system-deps.sh runtime && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY --from=build /src/build/Release/ ./build/Release/
ENV NODE_ENV=production \
    GATEHOUSE_WEBAPP__LISTEN=0.0.0.0:8443 \
    GATEHOUSE_PROXY__LISTEN=127.0.0.1:8080 \
    GATEHOUSE_ENGINE__LISTEN=127.0.0.1:4822
# `gatehouse all` keeps its database, keys and generated certificates in .gatehouse/ (mount a volume there).
RUN mkdir -p /opt/gatehouse/.gatehouse && chown node:node /opt/gatehouse/.gatehouse
USER node
EXPOSE 8443
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "-e", "require('node:https').get({host: '127.0.0.1', port: 8443, path: '/api/health', rejectUnauthorized: false}, (r) => process.exit(r.statusCode === 200 ? 0 : 1)).on('error', () => process.exit(1))"]
ENTRYPOINT ["node", "dist/src/cli/main.js"]
CMD ["all"]
