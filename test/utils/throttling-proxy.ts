import { connect, createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface ThrottlingProxy extends AsyncDisposable {
  /** `host:port` on loopback. */
  address: string;
  /** Client → target bytes per second from now on (undefined: full speed). */
  throttle(bytesPerSecond: number | undefined): void;
  close(): Promise<void>;
}

/**
 * A TCP proxy on loopback whose client → target direction can be slowed at will: a home link
 * whose upload from the VM turns slow (the other direction stays at full speed). It paces by
 * pausing the client after each piece for as long as the rate allows.
 */
export async function startThrottlingProxy(targetPort: number): Promise<ThrottlingProxy> {
  let rate: number | undefined;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    const cut = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (data: Buffer) => {
      upstream.write(data);
      if (rate === undefined) return;
      client.pause();
      setTimeout(() => client.resume(), (data.length / rate) * 1000).unref();
    });
    upstream.on('data', (data: Buffer) => client.write(data));
    for (const socket of [client, upstream]) {
      socket.on('error', cut);
      socket.on('close', () => {
        sockets.delete(socket);
        cut();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const close = async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    throttle: (bytesPerSecond) => (rate = bytesPerSecond),
    close,
    [Symbol.asyncDispose]: close,
  };
}
