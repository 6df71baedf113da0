# Armory application image.
#   docker build -t armory:local .
#   docker build --build-arg NODE_IMAGE=registry.internal/node:20-bookworm-slim -t armory:local .
# Usually built and run through docker-compose.yml. No `# syntax=` line on purpose: it would make
# the builder fetch a frontend image, which fails on machines without registry access.

ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: dependencies, Prisma client, production Next build ---------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
ENV NEXT_TELEMETRY_DISABLED=1 \
    CHECKPOINT_DISABLE=1 \
    PRISMA_HIDE_UPDATE_MESSAGE=1 \
    npm_config_audit=false \
    npm_config_fund=false \
    npm_config_update_notifier=false

# The root postinstall runs `prisma generate`, which needs the schema and the Prisma config, so
# they come in with the manifests. This layer is rebuilt only when these files change.
COPY package.json package-lock.json prisma.config.ts ./
COPY prisma ./prisma
RUN npm ci \
 && test -f src/server/db/generated/client.ts

# Sources (.dockerignore keeps node_modules, .next, data, the generated client and secrets out).
COPY . .
# `npm run build` runs `next build` and records the source fingerprint that `npm start` checks,
# so the server starts without rebuilding. The Next build cache is not needed at run time.
RUN npm run build \
 && test -f .next/BUILD_ID \
 && test -f .next/armory-build-fingerprint \
 && rm -rf .next/cache

# ---- runtime ------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    ARMORY_BIND_ADDRESS=0.0.0.0 \
    ARMORY_DATA_DIR=/data \
    PORT=3000 \
    NEXT_TELEMETRY_DISABLED=1
WORKDIR /app

# Unprivileged user with a fixed uid/gid (stable ownership of the /data volume). Docker access
# is granted at run time by adding the group that owns the host's socket (compose `group_add`).
RUN groupadd --gid 10001 armory \
 && useradd --uid 10001 --gid armory --home-dir /app --no-create-home --shell /usr/sbin/nologin armory \
 && mkdir -p /data \
 && chown armory:armory /data

# The whole built tree in one copy: node_modules (the server runs TypeScript through tsx, a dev
# dependency for now, so nothing is pruned), sources, prisma/migrations (applied at start) and
# .next. COPY keeps file mtimes, so the build fingerprint still matches and `npm start` serves
# the existing build instead of rebuilding. Owned by the app user so Next can write its
# runtime cache under .next.
COPY --from=build --chown=armory:armory /app /app

USER armory
VOLUME ["/data"]
EXPOSE 3000

HEALTHCHECK --interval=30s --timeout=5s --start-period=90s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/api/health',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

# Same as `npm start`, without npm in between (signals go straight to the server).
CMD ["node", "--import", "tsx", "server.ts"]
