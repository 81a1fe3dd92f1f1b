// TLS between the agent (or any client) and a controller with a self-signed certificate.
export * from './tls/fingerprint.js';
export * from './tls/pinned-connections.js';
