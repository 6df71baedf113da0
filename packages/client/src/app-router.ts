// In this repository the client is typed by the server's own router. The published package
// replaces this file with a generated, self-contained declaration of the same router
// (scripts/generate-router.ts), so it references neither the server's source nor Prisma.
export type { AppRouter } from "../../../src/server/api/root";
