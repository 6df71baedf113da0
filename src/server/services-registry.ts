// Where Next's route handlers find the services Armory's server created. Kept apart from
// services.ts so the Next bundle never pulls in how services are made (Docker image builds,
// migrations): one copy of that code runs, in the server process's own module graph.
// Stored on globalThis because the server and Next's bundles load separate module copies.
import type { Services } from "./services";

const SERVICES_KEY = Symbol.for("armory.services");
type WithServices = typeof globalThis & { [SERVICES_KEY]?: Services };

export function setServices(services: Services): void {
  (globalThis as WithServices)[SERVICES_KEY] = services;
}

export class ServicesNotStartedError extends Error {
  constructor() {
    super("Armory's services are not running in this process. Start Armory with `npm start` or `npm run dev` (server.ts), not `next start` or `next dev`.");
    this.name = "ServicesNotStartedError";
  }
}

export async function getServices(): Promise<Services> {
  const services = (globalThis as WithServices)[SERVICES_KEY];
  if (!services) throw new ServicesNotStartedError();
  return services;
}
