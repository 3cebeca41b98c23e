import { existsSync } from "node:fs";
import { join } from "node:path";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance, FastifyReply } from "fastify";
import { z } from "zod";
import { rootPath } from "../paths.ts";

export const WEB_DIST = rootPath("web", "dist");

/** Built file names are flat and hashed (`index-B2x9.js`): anything else is a 404. */
const ASSET = /^[\w.-]{1,200}$/;

/**
 * The page is same-origin and self-contained: its own scripts, styles and API only.
 * `style-src 'unsafe-inline'` is not needed: React sets styles through the CSSOM.
 */
const PAGE_HEADERS = {
  "content-security-policy":
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; " +
    "form-action 'self'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "same-origin",
  "x-frame-options": "DENY",
};

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Tasktalk</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: system-ui, sans-serif; max-width: 36rem; margin: 4rem auto; padding: 0 1rem; line-height: 1.5">
<h1>Tasktalk</h1>
<p>The web page has not been built yet. Run <code>npm run build</code> (or restart with
<code>npm start</code>, which builds it), then reload. The API under <code>/api</code> works as it is.</p>
</body></html>`;

/**
 * Serves the web page built by Vite (web/dist): `GET /` is the app, `GET /assets/*` its
 * hashed, immutable files. Both are public (the page signs in through /api/auth); nothing
 * else is caught, so unknown `/api/*` paths stay problem+json 404s.
 */
export async function webRoutes(app: FastifyInstance, opts: { root?: string } = {}): Promise<void> {
  const root = opts.root ?? WEB_DIST;
  const assets = join(root, "assets");
  // serve: false: only `reply.sendFile`; the routes are ours, so they can say they are public.
  await app.register(fastifyStatic, { root, serve: false });

  const page = (reply: FastifyReply) => {
    reply.headers(PAGE_HEADERS);
    if (!existsSync(join(root, "index.html"))) {
      return reply.status(503).type("text/html; charset=utf-8").send(NOT_BUILT);
    }
    // The page names its assets by hash: it must be revalidated, they never need to be.
    reply.header("cache-control", "no-cache");
    return reply.sendFile("index.html", root, { cacheControl: false });
  };

  const html = (description: string) => ({
    description,
    content: { "text/html": { schema: z.string() } },
  });
  const pageOptions = {
    config: { auth: "public" },
    logLevel: "warn",
    schema: {
      summary: "The chat page",
      response: { 200: html("The page"), 503: html("Not built yet: how to build it") },
    },
  } as const;
  app.get("/", pageOptions, (_request, reply) => page(reply));
  app.get("/index.html", pageOptions, (_request, reply) => page(reply));
  // The OAuth consent screen (MCP connectors): the same page, which reads the path.
  app.get("/oauth/consent", pageOptions, (_request, reply) => page(reply));

  app.get<{ Params: { "*": string } }>(
    "/assets/*",
    {
      config: { auth: "public" },
      logLevel: "warn",
      schema: {
        summary: "The page's hashed, immutable files",
        response: {
          200: {
            description: "A script, style sheet or image",
            content: { "*/*": { schema: z.string() } },
          },
        },
        errors: ["not_found"],
      },
    },
    (request, reply) => {
      const name = request.params["*"];
      if (!ASSET.test(name) || name.startsWith(".")) return reply.callNotFound();
      reply.header("x-content-type-options", "nosniff");
      return reply.sendFile(name, assets, { maxAge: "365d", immutable: true });
    },
  );
}
