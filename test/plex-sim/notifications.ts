import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { toMessage, type Notification } from './notifier.js';
import type { SimRuntime } from './runtime.js';

/**
 * `ws://…/:/websockets/notifications` (the plural path; the singular one is not served,
 * plex-api.md trap 23), token-checked like HTTP, with `filters=a,b` (only these) or
 * `filters=-a` (all but these; the default hides `log`).
 */
export function attachNotifications(server: Server, runtime: SimRuntime): { close(): void } {
  const wss = new WebSocketServer({ noServer: true });
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const reject = (status: number, text: string) => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (url.pathname !== '/:/websockets/notifications') return reject(404, 'Not Found');
    const token = runtime.preferences.token();
    const given = (req.headers['x-plex-token'] as string | undefined) ?? url.searchParams.get('X-Plex-Token');
    if (token && given !== token) return reject(401, 'Unauthorized');
    wss.handleUpgrade(req, socket, head, (ws) => subscribe(ws, url.searchParams.get('filters') ?? '-log'));
  };
  server.on('upgrade', onUpgrade);

  const subscribe = (ws: WebSocket, filters: string) => {
    const exclude = filters.startsWith('-');
    const names = new Set((exclude ? filters.slice(1) : filters).split(',').filter(Boolean));
    const wanted = (n: Notification) => (filters === '' ? true : exclude ? !names.has(n.type) : names.has(n.type));
    const listener = (notification: Notification) => {
      if (wanted(notification) && ws.readyState === ws.OPEN) ws.send(toMessage(notification));
    };
    runtime.notifier.on('notification', listener);
    ws.on('close', () => runtime.notifier.off('notification', listener));
    ws.on('error', () => ws.terminate());
  };

  return {
    close: () => {
      server.off('upgrade', onUpgrade);
      for (const client of wss.clients) client.terminate();
      wss.close();
    },
  };
}
