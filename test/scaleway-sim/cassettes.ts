import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

/** One recorded request/response pair (go-vcr `version: 2`). */
export interface Interaction {
  request: { method: string; url: string; body: string; headers: Record<string, string[]> };
  response: { code: number; body: string; headers: Record<string, string[]> };
}

/** The recorded traffic of a cassette in `test/fixtures/scaleway` (its SOURCE.md says where each comes from). */
export function loadCassette(name: string): Interaction[] {
  return (parse(readFileSync(new URL(`../fixtures/scaleway/${name}.cassette.yaml`, import.meta.url), 'utf8')) as { interactions: Interaction[] }).interactions;
}

export const CASSETTES = [
  'server-user-data-with-cloud-init-at-start',
  'test-server-terminate-with-block',
  'test-create-server-simple-with-start',
  'test-api-all-server-user-data',
  'test-get-image-by-label',
  'test-create-server-with-incorrect-body',
] as const;

const FLOW = 'server-user-data-with-cloud-init-at-start';

function responses(name: string, test: (i: Interaction) => boolean): Record<string, unknown>[] {
  return loadCassette(name)
    .filter(test)
    .map((i) => JSON.parse(i.response.body) as Record<string, unknown>);
}

/** The real catalogue of Instance types of fr-par-1 (2026-07-30), all pages merged. */
export function recordedServerTypes(): Record<string, Record<string, unknown>> {
  const pages = responses(FLOW, (i) => i.request.method === 'GET' && i.request.url.includes('/products/servers?page='));
  return Object.assign({}, ...pages.map((page) => page.servers as Record<string, Record<string, unknown>>)) as Record<string, Record<string, unknown>>;
}

/** The recorded marketplace entries of one label: one arm64, one x86_64 image with their compatible types. */
export function recordedLocalImages(): Record<string, unknown>[] {
  return responses(FLOW, (i) => i.request.url.includes('/marketplace/v2/local-images'))[0]!.local_images as Record<string, unknown>[];
}

/** The server object the API answers a create with (state `stopped`). */
export function recordedServer(): Record<string, unknown> {
  return responses(FLOW, (i) => i.request.method === 'POST' && i.request.url.endsWith('/servers'))[0]!.server as Record<string, unknown>;
}

/** A Block volume while attached to a server. */
export function recordedVolume(): Record<string, unknown> {
  return responses(FLOW, (i) => i.request.method === 'GET' && i.request.url.includes('/block/v1/'))[0]!;
}
