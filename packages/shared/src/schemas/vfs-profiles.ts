import { z } from 'zod';

/**
 * The rclone VFS profiles, by VM size: the config's and the job's `media.vfsProfile`; the agent
 * holds what each one sets (`VFS_PROFILES` in its media mount).
 */
export const VFS_PROFILE_NAMES = ['lite', 'standard', 'power', 'superpower'] as const;

export const VfsProfileNameSchema = z.enum(VFS_PROFILE_NAMES);
export type VfsProfileName = z.infer<typeof VfsProfileNameSchema>;
