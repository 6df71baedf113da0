# Armory application image.
#   docker build -t armory:local .
#   docker build --build-arg NODE_IMAGE=registry.internal/node:20-bookworm-slim -t armory:local .
# Usually built and run through docker-compose.yml. Without a registry, `npx tsx scripts/app-image.ts`
# assembles a local Debian + Node base and builds this file on it (NODE_IMAGE). No `# syntax=`
# line and no BuildKit-only features on purpose: the classic builder builds it offline from
# local bases (the build stage needs the npm registry for `npm ci`).
#
# The runtime stage holds production code only: Next's traced standalone output, Armory's server
# compiled into one file (dist/server.mjs, so no tsx or TypeScript at run time), the npm package
# files they load, the SQL migrations (applied at every start) and the templates.

ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: dependencies, Prisma client, production Next build, server bundle ------------------
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
# npm workspaces: `npm ci` needs every workspace's package.json, one COPY line per workspace.
COPY packages/client/package.json packages/client/
COPY packages/cli/package.json packages/cli/
COPY prisma ./prisma
RUN npm ci \
 && test -f src/server/db/generated/client.ts

# Sources (.dockerignore keeps node_modules, .next, data, the generated client and secrets out).
COPY . .
# `npm run build`: `next build` with output "standalone"; scripts/bundle-server.ts then
# assembles the runtime tree in .next/armory-app.
RUN npm run build \
 && node --import tsx scripts/bundle-server.ts \
 && test -f .next/armory-app/dist/server.mjs \
 && test -f .next/armory-app/.next/BUILD_ID

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
# npm, npx and corepack are not needed to run Armory.
RUN groupadd --gid 10001 armory \
 && useradd --uid 10001 --gid armory --home-dir /app --no-create-home --shell /usr/sbin/nologin armory \
 && mkdir -p /data \
 && chown armory:armory /data \
 && rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack /opt/yarn-* /usr/local/bin/yarn /usr/local/bin/yarnpkg

# The code is root's and read-only to the app user; only Next's runtime cache is its to write.
COPY --from=build /app/.next/armory-app /app
RUN mkdir -p /app/.next/cache && chown armory:armory /app/.next/cache

USER armory
VOLUME ["/data"]
EXPOSE 3000

HEALTHCHECK --interval=30s --timeout=5s --start-period=90s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/api/health',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

# server.ts compiled (scripts/bundle-server.ts); node directly, so signals reach the server.
# --max-semi-space-size=4: V8's young generation at most 2 x 4 MB instead of 2 x 16 MB (the same
# flags as `npm start` in package.json; why: scripts/bench/README.md, "server RSS").
CMD ["node", "--max-semi-space-size=4", "dist/server.mjs"]
