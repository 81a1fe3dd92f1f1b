import { X509Certificate } from 'node:crypto';
import { PlexliftError } from '../errors.js';

/**
 * A certificate's SHA-256 fingerprint the way Node and OpenSSL print it (`AB:CD:…`, 32 bytes).
 * Accepted from people and files with or without colons, any case, with an optional `sha256/`
 * or `SHA256:` prefix; `field` names where it came from in the error.
 */
export function normalizeFingerprint(value: string, field = 'fingerprint'): string {
  const hex = value
    .trim()
    .replace(/^sha-?256[:/]/i, '')
    .replace(/:/g, '')
    .toUpperCase();
  if (!/^[0-9A-F]{64}$/.test(hex)) {
    throw new PlexliftError('CONFIG_INVALID', `${field}: "${value}" is not a SHA-256 certificate fingerprint (64 hex digits, colons allowed)`);
  }
  return hex.match(/../g)!.join(':');
}

/** The SHA-256 fingerprint of a PEM certificate (the first one of a chain). */
export function fingerprintOf(certificatePem: string): string {
  return new X509Certificate(certificatePem).fingerprint256;
}
