// Vitest global setup: one PostgreSQL cluster for the whole run; each test file creates its
// own database in it (see databases.ts).
import type { TestProject } from "vitest/node";
import { startPostgresCluster } from "./postgres-cluster";

export default async function setup(project: TestProject) {
  const cluster = await startPostgresCluster();
  project.provide("pgAdminUrl", cluster.adminUrl);
  return async () => {
    await cluster.stop();
  };
}

declare module "vitest" {
  export interface ProvidedContext {
    pgAdminUrl: string;
  }
}
