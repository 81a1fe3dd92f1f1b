// The control-plane contract between the agent and the controller.
export * from './protocol/agent-router.js';
export * from './protocol/agent-socket.js';
export * from './events.js';
export * from './schemas/phases.js';
export * from './schemas/job-spec.js';
export * from './schemas/vfs-profiles.js';
export * from './protocol/bearer-token.js';
