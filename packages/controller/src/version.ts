import { createRequire } from 'node:module';

/** Set by the bundler when the CLI is built into one file (the controller's image); absent otherwise. */
declare const __PLEXLIFT_VERSION__: string | undefined;

/** plexlift's version: the agent's and the controller's are one (one repository, one release). */
export const VERSION: string =
  typeof __PLEXLIFT_VERSION__ === 'string' ? __PLEXLIFT_VERSION__ : (createRequire(import.meta.url)('../package.json') as { version: string }).version;
