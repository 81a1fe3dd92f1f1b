export * from './errors.js';
export * from './schemas/config.js';
export * from './schemas/notify-config.js';
export * from './schemas/run-request.js';
export { bandwidthLimitProblem, bytesPerSecondOf } from './schemas/bandwidth-limit.js';
export * from './schemas/job-report.js';
export * from './schemas/provider-names.js';
export * from './schemas/deletion-cap.js';
export * from './schemas/job-states.js';
