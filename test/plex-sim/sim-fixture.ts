import { XMLParser } from 'fast-xml-parser';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import { createMediaTree, type MediaTree, type MediaTreeSize } from '../utils/media-tree.js';
import { createTempDir } from '../utils/temp-dir.js';
import { clearOfButlerWindow } from './clear-of-butler.js';
import type { PlexSimOptions } from './options.js';
import { startPlexSim, type PlexSim } from './plex-sim.js';

export interface ApiReply {
  status: number;
  text: string;
  headers: Headers;
  /** The parsed XML (attributes unprefixed), when the reply is XML. */
  xml: Record<string, unknown> | undefined;
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseAttributeValue: false,
  isArray: (_, jpath) => /\.(Directory|Location|Setting|Activity|ButlerTask|Account|Server)$/.test(String(jpath)),
});

export function parseXml(text: string): Record<string, unknown> {
  return parser.parse(text) as Record<string, unknown>;
}

export interface TestSim {
  sim: PlexSim;
  media: MediaTree;
  dir: string;
  api: (path: string, init?: { method?: string; json?: boolean; token?: string; headers?: Record<string, string> }) => Promise<ApiReply>;
  /** Creates a section through the API and waits until its first scan and metadata are done. */
  addSection: (name: string, type: 'movie' | 'show' | 'artist' | 'photo', location: string) => Promise<number>;
}

/** A running double on a free loopback port, with a media tree, stopped after the test. */
export async function startTestSim(options: Partial<PlexSimOptions> & { media?: MediaTreeSize; onCrash?: () => void } = {}): Promise<TestSim> {
  const dir = createTempDir('plex-sim-');
  const media = createMediaTree(join(dir, 'media'), options.media ?? {});
  const sim = await startPlexSim({
    ...options,
    dataDir: options.dataDir ?? join(dir, 'config'),
    port: 0,
    speed: options.speed ?? 10_000,
    clockOffsetMs: options.clockOffsetMs ?? clearOfButlerWindow(options.timeZone ?? 'UTC'),
  });
  onTestFinished(() => sim.stop());
  const api: TestSim['api'] = async (path, init = {}) => {
    const headers: Record<string, string> = { ...init.headers };
    if (init.json) headers.Accept = 'application/json';
    if (init.token) headers['X-Plex-Token'] = init.token;
    const response = await fetch(sim.url + path, { method: init.method ?? 'GET', headers });
    const text = await response.text();
    const xml = (response.headers.get('content-type') ?? '').includes('xml') ? parseXml(text) : undefined;
    return { status: response.status, text, headers: response.headers, xml };
  };
  const addSection: TestSim['addSection'] = async (name, type, location) => {
    await sim.ready;
    const reply = await api(`/library/sections?name=${encodeURIComponent(name)}&type=${type}&location=${encodeURIComponent(location)}`, { method: 'POST' });
    if (reply.status !== 200) throw new Error(`section not created: ${reply.status} ${reply.text}`);
    await sim.jobs.idle();
    return Number((reply.xml?.MediaContainer as { Directory: { key: string }[] }).Directory[0]!.key);
  };
  return { sim, media, dir, api, addSection };
}
