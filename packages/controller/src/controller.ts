import { join } from 'node:path';
import type { AgentJob } from '@plexlift/shared/protocol';
import { createAgentGateway } from './server/agent-gateway.js';
import type { JobControl } from './server/admin-router.js';
import { createAgentBundleHandler } from './server/agent-bundle.js';
import { createAppRouter } from './server/app-router.js';
import { startControllerServer, type ControllerServer } from './server/controller-server.js';
import { JobBus } from './server/job-bus.js';
import { JobStore } from './store/job-store.js';
import { openStoreDatabase, type StoreDatabase } from './store/schema.js';
import { TokenStore } from './store/token-store.js';
import { ChunkTransfers } from './transfers/chunk-transfers.js';
import type { TransferRecord } from './transfers/transfer-store.js';
import { TransferStore } from './transfers/transfer-store.js';

export interface ControllerOptions {
  /** The daemon's own folder: its database and the staged transfers. */
  stateDir: string;
  adminToken: string;
  port?: number;
  host?: string;
  /** What an agent gets when it asks for its job. */
  agentJob: (jobId: string, controller: Controller) => Promise<AgentJob>;
  control?: JobControl;
  onHello?: (jobId: string, agentVersion: string) => void;
  onConnect?: (jobId: string) => void;
  onVerified?: (transfer: TransferRecord) => void;
  onRefused?: (where: string, reason: string) => void;
  transfers?: { maxChunkBytes?: number; reserveBytes?: number };
  keepAlive?: { pingMs: number; pongWaitMs: number };
  /** HTTPS/WSS with this certificate and key (PEM); plain HTTP without. */
  tls?: { cert: string; key: string };
  /** Called once the stores exist and before the port opens (an agent may connect at once). */
  beforeListen?: (controller: Controller) => void;
}

export interface Controller extends AsyncDisposable {
  db: StoreDatabase;
  jobs: JobStore;
  tokens: TokenStore;
  transferStore: TransferStore;
  transfers: ChunkTransfers;
  bus: JobBus;
  server: ControllerServer;
  close(): Promise<void>;
}

/** The daemon's parts wired together: the store, the data plane, the tRPC server on one port. */
export async function startController(options: ControllerOptions): Promise<Controller> {
  const db = openStoreDatabase(join(options.stateDir, 'plexlift.db'));
  const jobs = new JobStore(db);
  const tokens = new TokenStore(db);
  const transferStore = new TransferStore(db);
  const bus = new JobBus();
  const transfers = new ChunkTransfers({
    store: transferStore,
    tokens,
    stagingDir: join(options.stateDir, 'transfers'),
    ...options.transfers,
    ...(options.onVerified ? { onVerified: options.onVerified } : {}),
  });
  const controller = { db, jobs, tokens, transferStore, transfers, bus } as Controller;
  const gateway = createAgentGateway({ jobs, tokens, bus, agentJob: (jobId) => options.agentJob(jobId, controller), ...(options.onHello ? { onHello: options.onHello } : {}), ...(options.onConnect ? { onConnect: options.onConnect } : {}) });
  const control: JobControl = options.control ?? {
    abort: (jobId, reason) => {
      jobs.pushCommand(jobId, { type: 'abort', jobId, reason });
      bus.commandQueued(jobId);
      return Promise.resolve();
    },
  };
  const router = createAppRouter({ gateway, jobs, bus, control });
  options.beforeListen?.(controller);
  controller.server = await startControllerServer({
    router,
    transfers,
    tokens,
    adminToken: options.adminToken,
    ...(options.port === undefined ? {} : { port: options.port }),
    ...(options.host ? { host: options.host } : {}),
    ...(options.keepAlive ? { keepAlive: options.keepAlive } : {}),
    ...(options.onRefused ? { onRefused: options.onRefused } : {}),
    ...(options.tls ? { tls: options.tls } : {}),
    handlers: [createAgentBundleHandler({ tokens, stagingDir: join(options.stateDir, 'tmp'), ...(options.onRefused ? { onRefused: options.onRefused } : {}) })],
  });
  const close = async () => {
    await controller.server.close();
    db.close();
  };
  controller.close = close;
  controller[Symbol.asyncDispose] = close;
  return controller;
}
