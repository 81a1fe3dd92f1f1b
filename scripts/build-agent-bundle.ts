/**
 * The agent as the controller serves it to a VM (`GET /agent/bundle`): `agent/main.mjs` and its
 * native packages, and the agent's package.json (its version). The Node binary is added when
 * served: the controller's own, so the VM runs the Node the agent was built and tested with.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleNodeApp } from './node-app-bundle.js';

const agent = fileURLToPath(new URL('../packages/agent/', import.meta.url));
const out = join(agent, 'bundle');
rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'agent'), { recursive: true });
await bundleNodeApp(join(agent, 'src', 'main.ts'), join(out, 'agent'), 'main.mjs');
const { name, version } = JSON.parse(readFileSync(join(agent, 'package.json'), 'utf8')) as { name: string; version: string };
// main.mjs reads ../package.json for its version, as the built agent does.
writeFileSync(join(out, 'package.json'), `${JSON.stringify({ name, version, type: 'module', private: true }, null, 2)}\n`);
