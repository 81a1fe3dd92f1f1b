import { createServer, connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface CuttingProxy extends AsyncDisposable {
  url: string;
  /** Cuts made so far. */
  cuts: number;
  close(): Promise<void>;
}

/**
 * A TCP proxy on loopback that cuts the connection carrying the byte at each of `cutAt` (counted
 * over everything clients send, all connections together): network cuts at chosen offsets of a
 * transfer, whatever the protocol above.
 */
export async function startCuttingProxy(targetPort: number, cutAt: number[]): Promise<CuttingProxy> {
  const offsets = [...cutAt].sort((a, b) => a - b);
  let forwarded = 0;
  const sockets = new Set<Socket>();
  const proxy = { cuts: 0 };
  const server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    const cut = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (data: Buffer) => {
      const next = offsets[0];
      if (next !== undefined && forwarded + data.length > next) {
        // Forward what comes before the cut, then drop both sides.
        upstream.write(data.subarray(0, next - forwarded));
        forwarded = next + 1;
        offsets.shift();
        proxy.cuts += 1;
        return cut();
      }
      forwarded += data.length;
      upstream.write(data);
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
  return Object.assign(proxy, { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close, [Symbol.asyncDispose]: close });
}
