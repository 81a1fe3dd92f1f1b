import { z } from 'zod';

/**
 * The JSON shapes of the PMS endpoints plexlift reads (plex-api.md), loose on purpose: PMS adds
 * attributes between versions, and values that are strings in one version are numbers in
 * another (plex-api.md, Traps: JSON ids are often strings), so ids and counts are coerced.
 */
const id = z.union([z.string(), z.number()]).transform(String);
const count = z.coerce.number();
const flag = z.union([z.boolean(), z.number(), z.string()]).transform((v) => v === true || v === 1 || v === '1' || v === 'true');

export const IdentitySchema = z.object({
  MediaContainer: z.object({ claimed: flag, machineIdentifier: z.string(), version: z.string() }).loose(),
});

export const RootSchema = z.object({
  MediaContainer: z
    .object({
      startState: z.string().optional(),
      myPlexMappingState: z.string().optional(),
      myPlexSubscription: flag.optional(),
      version: z.string(),
      machineIdentifier: z.string(),
    })
    .loose(),
});

export const SettingSchema = z
  .object({
    id: z.string(),
    type: z.string(),
    value: z.union([z.boolean(), z.number(), z.string()]),
    default: z.union([z.boolean(), z.number(), z.string()]).optional(),
  })
  .loose();
export const PrefsSchema = z.object({ MediaContainer: z.object({ Setting: z.array(SettingSchema).default([]) }).loose() });

export const SectionSchema = z
  .object({
    key: id,
    type: z.string(),
    title: z.string(),
    refreshing: flag.default(false),
    scannedAt: count.optional(),
    Location: z.array(z.object({ id: id, path: z.string() }).loose()).default([]),
  })
  .loose();
export const SectionsSchema = z.object({ MediaContainer: z.object({ Directory: z.array(SectionSchema).default([]) }).loose() });

/** The reply to a playlist's creation: the playlist, under `Metadata` in PMS's JSON. */
export const PlaylistsSchema = z.object({
  MediaContainer: z.object({ Metadata: z.array(z.object({ ratingKey: z.coerce.string(), title: z.string() }).loose()).default([]) }).loose(),
});

export const ActivitySchema = z
  .object({
    uuid: z.string(),
    type: z.string(),
    title: z.string().default(''),
    subtitle: z.string().default(''),
    progress: count.default(-1),
    cancellable: flag.optional(),
    // librarySectionID may be a string or a number, and is missing at first (plex-api.md, Traps: missing WebSocket events).
    Context: z.object({ librarySectionID: id.optional() }).loose().optional(),
  })
  .loose();
export const ActivitiesSchema = z.object({ MediaContainer: z.object({ Activity: z.array(ActivitySchema).default([]) }).loose() });

export const TimelineSchema = z.object({ LibraryTimeline: z.object({ updateQueueSize: count.default(0) }).loose() });

export const CountSchema = z.object({ MediaContainer: z.object({ totalSize: count }).loose() });

export const ButlerTasksSchema = z.object({
  ButlerTasks: z.object({ ButlerTask: z.array(z.object({ name: z.string(), enabled: flag }).loose()).default([]) }).loose(),
});

export const AccountSchema = z.object({
  MyPlex: z.object({ subscriptionActive: flag.default(false), signInState: z.string().optional(), username: z.string().optional() }).loose(),
});

export type PlexSection = z.infer<typeof SectionSchema>;
export type PlexActivity = z.infer<typeof ActivitySchema>;
export type PlexSetting = z.infer<typeof SettingSchema>;
