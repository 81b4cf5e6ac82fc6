# reachscan: one image for the simulator now, and the worker and API as they arrive.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
# Applied to node_modules by npm ci (postinstall: patch-package).
COPY patches ./patches
COPY bin ./bin
COPY src ./src
RUN npm ci --no-audit --no-fund && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
# Named volumes mounted here start with this ownership, so no service needs root.
RUN mkdir -p /keys /data && chown node:node /keys /data
USER node
ENTRYPOINT ["node", "bin/reachscan.js"]
CMD ["help"]
