// Health vocabulary shared by the API schemas, the self-heal monitor and the UI (no server imports).
export const HEALTH_STATES = ["healthy", "starting", "unhealthy", "down", "oom", "crash-loop", "stopped"] as const;
export type HealthState = (typeof HEALTH_STATES)[number];
export const RESTART_POLICIES = ["never", "on_failure"] as const;
export type RestartPolicy = (typeof RESTART_POLICIES)[number];
