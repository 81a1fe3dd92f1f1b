import { join } from 'node:path';
import type { AgentHooks, JobControl } from './jobs/job-control.js';
import { createAgentBundleHandler } from './server/agent-bundle.js';
import { createAgentGateway } from './server/agent-gateway.js';
import { originsOf } from './server/dashboard-origins.js';
import { createDashboardHandler } from './server/dashboard-routes.js';
import { DashboardSessions } from './server/dashboard-sessions.js';
import type { ConnectionLimits } from './server/connection-limits.js';
import type { EventQuota } from './server/event-quota.js';
import { createAppRouter } from './server/app-router.js';
import { startControllerServer, type ControllerServer } from './server/controller-server.js';
import { limitRefusalLog, type RefusalLogLimit } from './server/refusal-log.js';
import { JobBus } from './store/job-bus.js';
import { JobStore } from './store/job-store.js';
import { openStoreDatabase, type StoreDatabase } from './store/schema.js';
import { TokenStore } from './store/token-store.js';
import { ChunkTransfers, type ChunkTransfersOptions } from './transfers/chunk-transfers.js';
import type { TransferRecord } from './transfers/transfer-store.js';
import { TransferStore } from './transfers/transfer-store.js';

/** The daemon's state and its data plane: opened first, before anything runs jobs or serves. */
export interface ControllerCore {
  db: StoreDatabase;
  jobs: JobStore;
  tokens: TokenStore;
  transferStore: TransferStore;
  transfers: ChunkTransfers;
  bus: JobBus;
}

export interface CoreOptions {
  /** The daemon's own folder: its database and the staged transfers. */
  stateDir: string;
  transfers?: Omit<ChunkTransfersOptions, 'store' | 'tokens' | 'stagingDir' | 'onVerified'>;
}

/** Opens the store (migrated), the bus and the data plane's staging; a verified transfer is announced on the bus. */
export function openControllerCore(options: CoreOptions): ControllerCore {
  const db = openStoreDatabase(join(options.stateDir, 'plexlift.db'));
  const tokens = new TokenStore(db);
  const transferStore = new TransferStore(db);
  const bus = new JobBus();
  const transfers = new ChunkTransfers({
    store: transferStore,
    tokens,
    stagingDir: join(options.stateDir, 'transfers'),
    ...options.transfers,
    onVerified: (transfer) => bus.transferVerified(transfer),
  });
  return { db, jobs: new JobStore(db), tokens, transferStore, transfers, bus };
}

export interface ServeOptions {
  stateDir: string;
  adminToken: string;
  port?: number;
  host?: string;
  /** What the admin API forwards to; without one, only `abort` works (it queues the command). */
  control?: JobControl;
  /** What the agents' side asks of whoever runs jobs. */
  agent: AgentHooks;
  onRefused?: (where: string, reason: string) => void;
  /** How many refusals of a kind `onRefused` hears one by one. @default REFUSAL_LOG_DEFAULTS */
  refusalLog?: RefusalLogLimit;
  keepAlive?: { pingMs: number; pongWaitMs: number };
  /** HTTPS/WSS with this certificate and key (PEM); plain HTTP without. */
  tls?: { cert: string; key: string };
  /** What a job's agent may store (tests lower it). @default EVENT_QUOTA_DEFAULTS */
  eventQuota?: EventQuota;
  /** @default 10 s */
  authTimeoutMs?: number;
  /** @default CONNECTION_LIMITS_DEFAULTS */
  connectionLimits?: ConnectionLimits;
  /** The dashboard's built page. @default dashboardBundleDir() */
  dashboardDir?: string;
  /**
   * The addresses a browser reaches the dashboard at besides this daemon's own (loopback, its bound
   * address): server.publicUrl and server.dashboard.origins. A page elsewhere cannot use a session.
   */
  dashboardOrigins?: readonly (string | undefined)[];
}

/** The one port (DESIGN.md): tRPC for agents and the CLI, the data plane, the agent bundle. */
export async function serveController(core: ControllerCore, options: ServeOptions): Promise<ControllerServer> {
  const { jobs, tokens, bus } = core;
  const gateway = createAgentGateway({
    jobs,
    tokens,
    bus,
    agentJob: options.agent.agentJob,
    ...(options.agent.agentClaim ? { agentClaim: options.agent.agentClaim } : {}),
    // An agent's hello is its first connection.
    ...(options.agent.onHello || options.agent.onConnect ? { onHello: (options.agent.onHello ?? options.agent.onConnect)! } : {}),
    ...(options.agent.onConnect ? { onConnect: options.agent.onConnect } : {}),
    ...(options.eventQuota ? { eventQuota: options.eventQuota } : {}),
  });
  const control: JobControl = options.control ?? {
    abort: (jobId, reason) => {
      jobs.pushCommand(jobId, { type: 'abort', jobId, reason });
      bus.commandQueued(jobId);
      return Promise.resolve();
    },
  };
  const onRefused = options.onRefused ? { onRefused: limitRefusalLog(options.onRefused, options.refusalLog) } : {};
  const dashboardSessions = new DashboardSessions();
  const dashboardOrigins = originsOf(options.dashboardOrigins ?? []);
  return startControllerServer({
    router: createAppRouter({ gateway, jobs, bus, control, dashboardSessions }),
    dashboardSessions,
    dashboardOrigins,
    transfers: core.transfers,
    tokens,
    adminToken: options.adminToken,
    ...(options.port === undefined ? {} : { port: options.port }),
    ...(options.host ? { host: options.host } : {}),
    ...(options.keepAlive ? { keepAlive: options.keepAlive } : {}),
    ...(options.tls ? { tls: options.tls } : {}),
    ...(options.authTimeoutMs === undefined ? {} : { authTimeoutMs: options.authTimeoutMs }),
    ...(options.connectionLimits ? { connectionLimits: options.connectionLimits } : {}),
    ...onRefused,
    handlers: [
      createAgentBundleHandler({ tokens, stagingDir: join(options.stateDir, 'tmp'), ...onRefused }),
      createDashboardHandler({
        sessions: dashboardSessions,
        origins: dashboardOrigins,
        ...(options.dashboardDir ? { bundleDir: options.dashboardDir } : {}),
        ...onRefused,
      }),
    ],
  });
}

export interface ControllerOptions extends CoreOptions, Omit<ServeOptions, 'agent'>, AgentHooks {
  onVerified?: (transfer: TransferRecord) => void;
}

export interface Controller extends ControllerCore, AsyncDisposable {
  server: ControllerServer;
  close(): Promise<void>;
}

/** The core and the server in one step, with plain callbacks: what tests start. */
export async function startController(options: ControllerOptions): Promise<Controller> {
  const core = openControllerCore(options);
  if (options.onVerified) core.bus.onTransferVerified(options.onVerified);
  const { agentJob, agentClaim, onHello, onConnect } = options;
  const server = await serveController(core, {
    ...options,
    agent: { agentJob, ...(agentClaim ? { agentClaim } : {}), ...(onHello ? { onHello } : {}), ...(onConnect ? { onConnect } : {}) },
  });
  return withClose(core, server);
}

/** The server closed first (no new calls), then the database. */
export function withClose(core: ControllerCore, server: ControllerServer): Controller {
  const close = async () => {
    await server.close();
    core.db.close();
  };
  return { ...core, server, close, [Symbol.asyncDispose]: close };
}
