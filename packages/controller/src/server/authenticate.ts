import type { TokenStore } from '../store/token-store.js';
import { sameSecret } from '../store/token-store.js';
import type { ControllerContext } from './trpc.js';

export type Authentication = { ok: true; context: ControllerContext } | { ok: false; reason: string };

/**
 * Who a token belongs to: the admin, an agent with its session token, or an agent with its
 * one-time bootstrap token (not used yet, not expired). The reason of a refusal is for the
 * controller's log; the caller only learns that it was refused.
 */
export function authenticate(token: string | undefined, options: { adminToken: string; tokens: TokenStore }): Authentication {
  if (!token) return { ok: false, reason: 'no token' };
  if (sameSecret(token, options.adminToken)) return { ok: true, context: { admin: true, agent: undefined } };
  const check = options.tokens.check(token, ['bootstrap', 'session']);
  if (!check.ok) return { ok: false, reason: `${check.reason} token` };
  return { ok: true, context: { admin: false, agent: { jobId: check.jobId, token, kind: check.kind === 'bootstrap' ? 'bootstrap' : 'session' } } };
}
