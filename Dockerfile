# syntax=docker/dockerfile:1
# Multi-stage build on Node 20 (the uWebSockets.js binaries we use exist for Node 16/18/20 only).

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# .npmrc (ignore-scripts=true) keeps every dependency install script off: no CUDA download.
RUN npm ci
COPY tsconfig.json ./
COPY src ./src
COPY workers ./workers
COPY bench ./bench
COPY test ./test
RUN npx tsc -p tsconfig.json && npm prune --omit=dev

FROM node:20-bookworm-slim AS production
ENV NODE_ENV=production SERVER_HOST=0.0.0.0 SERVER_PORT=8080
WORKDIR /app
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --chown=node:node package.json ./
COPY --chown=node:node public ./public
# The shipped model; mount another one and set ONNX_MODEL_PATH to use it.
COPY --chown=node:node pretrained_models ./pretrained_models
USER node
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.SERVER_PORT||8080)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "dist/src/index.js"]
