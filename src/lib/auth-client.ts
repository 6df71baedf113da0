"use client";
import { createAuthClient } from "better-auth/react";

// Same origin as the page, so auth works on whatever host and port Armory is served.
export const authClient = createAuthClient();
