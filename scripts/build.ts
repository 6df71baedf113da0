// `npm run build`: the production build plus the fingerprint `npm start` uses to skip rebuilding.
import { buildApp } from "../src/server/build";

await buildApp(process.cwd());
