import { createHash, X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { PlexliftError, type Config } from '@plexlift/shared';
import { fingerprintOf } from '@plexlift/shared/tls';

export interface ServerCertificate {
  cert: string;
  key: string;
  /** SHA-256, `AB:CD:…`: what agents pin (it goes into their user data). */
  fingerprint: string;
  /** base64 SHA-256 of the public key (SPKI): curl's `--pinnedpubkey` on the VM. */
  publicKeyPin: string;
  certPath: string;
  /** True when it was made just now (first start). */
  created: boolean;
}

/** Where the certificate lives: the configured files, else `<stateDir>/tls/`. */
export function certificatePaths(config: Config): { certPath: string; keyPath: string } {
  const tls = config.server.tls;
  if (tls.certFile && tls.keyFile) return { certPath: tls.certFile, keyPath: tls.keyFile };
  const dir = join(config.server.stateDir, 'tls');
  return { certPath: join(dir, 'cert.pem'), keyPath: join(dir, 'key.pem') };
}

/**
 * The daemon's certificate: the user's own files when configured, else a self-signed one made at
 * first start and kept (agents pin its fingerprint, so it must not change between restarts). The
 * key is written 0600, the certificate readable by all (the CLI pins it too).
 */
export async function ensureCertificate(config: Config): Promise<ServerCertificate> {
  const { certPath, keyPath } = certificatePaths(config);
  const own = Boolean(config.server.tls.certFile);
  let created = false;
  if (!own && !existsSync(certPath)) {
    // Loaded only to make a certificate (once per install): half a megabyte of X.509 code.
    const { default: selfsigned } = await import('selfsigned');
    const pems = await selfsigned.generate([{ name: 'commonName', value: 'plexlift controller' }], {
      keyType: 'ec',
      curve: 'P-256',
      algorithm: 'sha256',
      // Pinned, never checked against a CA: a long life spares users a broken pin in a year.
      notAfterDate: new Date(Date.now() + 10 * 365 * 86_400_000),
      extensions: [
        { name: 'basicConstraints', cA: true, critical: true },
        { name: 'keyUsage', digitalSignature: true, keyCertSign: true, critical: true },
        { name: 'extKeyUsage', serverAuth: true },
        { name: 'subjectAltName', altNames: altNames(config) },
      ],
    });
    const dir = join(certPath, '..');
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    // The key first and each file whole (renamed into place): a crash never leaves half a pair.
    writeFileSync(`${keyPath}.tmp`, pems.private, { mode: 0o600 });
    renameSync(`${keyPath}.tmp`, keyPath);
    writeFileSync(`${certPath}.tmp`, pems.cert, { mode: 0o644 });
    chmodSync(`${certPath}.tmp`, 0o644);
    renameSync(`${certPath}.tmp`, certPath);
    created = true;
  }
  const read = (path: string, field: string) => {
    try {
      return readFileSync(path, 'utf8');
    } catch (error) {
      throw new PlexliftError('CONFIG_INVALID', `${field}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
  };
  const cert = read(certPath, own ? 'server.tls.certFile' : 'server.tls');
  const key = read(keyPath, own ? 'server.tls.keyFile' : 'server.tls');
  let fingerprint: string;
  try {
    fingerprint = fingerprintOf(cert);
  } catch (error) {
    throw new PlexliftError(
      'CONFIG_INVALID',
      `${own ? 'server.tls.certFile' : 'server.tls'}: ${certPath} is not a PEM certificate (${(error as Error).message})`,
    );
  }
  const publicKeyPin = createHash('sha256')
    .update(new X509Certificate(cert).publicKey.export({ type: 'spki', format: 'der' }))
    .digest('base64');
  return { cert, key, fingerprint, publicKeyPin, certPath, created };
}

/** Names the certificate carries (clients pin it, so they matter only to tools that check names). */
function altNames(config: Config): { type: 2 | 7; value?: string; ip?: string }[] {
  const names = new Set(['localhost', '127.0.0.1', '::1', hostname()]);
  if (config.server.publicUrl) names.add(new URL(config.server.publicUrl).hostname.replace(/^\[|\]$/g, ''));
  if (config.server.host !== '0.0.0.0' && config.server.host !== '::') names.add(config.server.host);
  return [...names].map((name) => (isIP(name) ? { type: 7, ip: name } : { type: 2, value: name }));
}
