import type { Server, Socket } from 'node:net';

/** How many TCP connections the port holds open at once (HTTP and WebSocket alike). */
export interface ConnectionLimits {
  /** From one address: an agent's socket and its chunk uploads, the CLI. @default 32 */
  perAddress: number;
  /** In all. @default 256 */
  total: number;
}

export const CONNECTION_LIMITS_DEFAULTS: ConnectionLimits = { perAddress: 32, total: 256 };

/**
 * Closes a connection over either limit at once, before it sends a byte: a peer without a token
 * cannot hold the daemon's memory through many sockets (issue 16: 95 MiB frames on a few sockets
 * took it from 76 MB to 1.31 GB).
 */
export function applyConnectionLimits(server: Server, limits: ConnectionLimits, onRefused: (where: string, reason: string) => void): void {
  // Node closes what is over this itself and says so with 'drop'.
  server.maxConnections = limits.total;
  server.on('drop', (data?: { remoteAddress?: string }) =>
    onRefused('connection', `${data?.remoteAddress ?? 'a peer'}: ${limits.total} connections are open already`),
  );
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? 'unknown';
    const count = (open.get(address) ?? 0) + 1;
    if (count > limits.perAddress) {
      onRefused('connection', `${address} has ${limits.perAddress} connections open already`);
      socket.destroy();
      return;
    }
    open.set(address, count);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left > 0) open.set(address, left);
      else open.delete(address);
    });
  });
}
