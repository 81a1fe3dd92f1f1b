import { z } from 'zod';

/**
 * Where agents can run: the one list of provider names. The config, `plexlift run --provider`,
 * the admin API and the controller's provider registry all derive from it, so a new provider
 * is a name here and an entry in the registry (which then fails to compile until it has one).
 */
export const PROVIDER_NAMES = ['local', 'docker', 'scaleway'] as const;

export const ProviderNameSchema = z.enum(PROVIDER_NAMES);
export type ProviderName = z.output<typeof ProviderNameSchema>;
