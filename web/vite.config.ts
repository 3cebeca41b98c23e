import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const root = fileURLToPath(new URL(".", import.meta.url));
/** Where `npm run dev:web` sends API calls: a Tasktalk server started with `npm start`. */
const api = process.env.TASKTALK_URL ?? "http://127.0.0.1:3000";

// The page is served by the Tasktalk server itself (src/web/web.plugin.ts) from web/dist.
export default defineConfig({
  root,
  base: "/",
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsDir: "assets",
    // No inline data: assets, so the page's CSP can stay strict.
    assetsInlineLimit: 0,
    sourcemap: false,
    target: "es2022",
  },
  server: {
    proxy: {
      // Dev only: the API sees its own origin, as it does when it serves the page itself.
      "/api": {
        target: api,
        changeOrigin: true,
        configure: (proxy) => {
          proxy.on("proxyReq", (req) => {
            if (req.getHeader("origin")) req.setHeader("origin", api);
          });
        },
      },
      "/health": { target: api, changeOrigin: true },
    },
  },
});
