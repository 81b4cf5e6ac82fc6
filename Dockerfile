# reachscan: one image for every command. docker-compose.yml runs the API (`serve`), the workers (`worker`) and
# the demo's carrier simulator (`simulate`) from it; `docker compose run --rm worker <command>` runs any other.
FROM node:20-bookworm-slim AS build
WORKDIR /app
# npm ci runs the project's own install scripts: postinstall (patch-package applies patches/ to node_modules)
# and prepare (`npm run build`: tsc compiles src/ to dist/ with tsconfig*.json and the dev dependencies).
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY patches ./patches
COPY bin ./bin
COPY src ./src
# Then only the runtime dependencies stay. npm prune runs no install scripts and leaves the packages it keeps
# as they are, so libphonenumber-js stays patched.
RUN npm ci --no-audit --no-fund && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
# No service needs root: a new named volume mounted on /keys or /data starts with this ownership (node:node).
RUN mkdir -p /keys /data && chown node:node /keys /data
USER node
ENTRYPOINT ["node", "bin/reachscan.js"]
CMD ["help"]
