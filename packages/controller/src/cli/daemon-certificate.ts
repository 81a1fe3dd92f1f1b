import { isIP } from 'node:net';
import { connect, type PeerCertificate } from 'node:tls';
import { PlexliftError } from '@plexlift/shared';
import { describeNetworkFailure } from '../network-failure.js';

export interface DaemonCertificate {
  /** SHA-256, `AB:CD:…`, as the client pins it. */
  fingerprint: string;
  /** The system's authorities vouch for it for this host name (a tunnel's certificate): no pin needed. */
  isCaSigned: boolean;
}

/**
 * The certificate an `https://` daemon shows, from a TLS handshake alone: nothing is sent after
 * it (trust on first use asks about this before the token travels).
 */
export function readDaemonCertificate(daemonUrl: string, timeoutMs = 10_000): Promise<DaemonCertificate> {
  const url = new URL(daemonUrl);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || 443);
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, servername: isIP(host) ? undefined : host, rejectUnauthorized: false, timeout: timeoutMs });
    const fail = (reason: string) => {
      socket.destroy();
      reject(new PlexliftError('CONTROLLER_UNREACHABLE', `cannot reach ${daemonUrl}: ${reason}; is plexlift serve running there, and the port open?`));
    };
    socket.once('secureConnect', () => {
      const certificate: PeerCertificate = socket.getPeerCertificate();
      const isCaSigned = socket.authorized;
      socket.end();
      if (!certificate.fingerprint256) return fail('it showed no certificate');
      resolve({ fingerprint: certificate.fingerprint256, isCaSigned });
    });
    socket.once('timeout', () => fail(`no TLS answer in ${Math.round(timeoutMs / 1000)} s`));
    socket.once('error', (error) => fail(describeNetworkFailure(error)));
  });
}
