# syntax=docker/dockerfile:1
# --- build: install dependencies (sqlite3 compiles here) and type-check -------------
FROM node:22-bookworm-slim AS build
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json ./
COPY src ./src
COPY commands ./commands
COPY components ./components
COPY scripts ./scripts
RUN npx tsc --noEmit -p tsconfig.json --skipLibCheck || (echo "type check failed" && exit 1)
RUN node scripts/build.mjs
RUN npm prune --omit=dev

# --- run: the app as a non-root user, state in a volume ------------------------------
FROM node:22-bookworm-slim
# HTTP_HOST: every interface of the container (outside `npm start` defaults to loopback); what reaches it is the
# port you publish (`-p 127.0.0.1:8080:8080` keeps it on the host, as docker-compose.yml does)
ENV NODE_ENV=production \
    STORE_URL=sqlite:///app/data/mj-relay.sqlite \
    HTTP_PORT=8080 \
    HTTP_HOST=0.0.0.0
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json tsconfig.json ./
COPY src ./src
COPY commands ./commands
COPY components ./components
COPY scripts ./scripts
RUN mkdir -p /app/data && chown -R node:node /app/data
USER node
VOLUME ["/app/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.HTTP_PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
# The transpiled build with the same flags as `npm start` (a small young generation keeps RSS low);
# node is PID 1 and gets SIGTERM itself (clean shutdown in main.ts). The sources stay for `npm run doctor`:
#   docker compose run --rm bot npm run doctor
CMD ["node", "--max-semi-space-size=2", "--enable-source-maps", "dist/src/main.js"]
