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
ENV NODE_ENV=production
USER node
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "dist/src/cli/main.js", "config", "--check"]
ENTRYPOINT ["node", "dist/src/cli/main.js"]
CMD ["all"]
