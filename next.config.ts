import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // `.next/standalone`: the files the built app needs at run time (traced), from which the
  // container image is assembled (Dockerfile, scripts/bundle-server.ts). `npm start` ignores it.
  output: "standalone",
  // next/image is not used: keep the image optimiser's native sharp/libvips (about 19 MB) out.
  outputFileTracingExcludes: { "*": ["node_modules/sharp/**", "node_modules/@img/**"] },
  // Native/driver packages stay as Node requires instead of being bundled.
  serverExternalPackages: [
    "@electric-sql/pglite",
    "pglite-prisma-adapter",
    "@prisma/adapter-pg",
    "pg",
    "pino",
    "pino-pretty",
    "thread-stream",
    "dockerode",
    "docker-modem",
    "ssh2",
  ],
  typescript: { ignoreBuildErrors: false, tsconfigPath: "tsconfig.build.json" },
};

export default nextConfig;
