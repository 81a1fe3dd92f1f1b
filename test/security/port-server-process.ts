/**
 * A controller in a process of its own, so a test can read its memory from /proc: started with a
 * state folder as its argument, it prints `{ "wsUrl": … }` once it listens and runs until killed.
 */
import { join } from 'node:path';
import { startController } from '../../packages/controller/src/controller.js';

const stateDir = process.argv[2]!;
const controller = await startController({
  stateDir: join(stateDir, 'state'),
  adminToken: 'admin-secret-0123456789',
  host: '127.0.0.1',
  agentJob: () => Promise.reject(new Error('no job here')),
});
process.stdout.write(`${JSON.stringify({ wsUrl: controller.server.wsUrl })}\n`);
