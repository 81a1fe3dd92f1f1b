/**
 * The close code of a refused token on the agents' WebSocket: the agent stops retrying, because
 * asking again with the same token cannot help (DESIGN.md, "Control plane").
 */
export const AUTH_REFUSED_CLOSE_CODE = 4401;

/**
 * The close code of a socket that showed no token in time (10 s): unlike 4401, the agent tries
 * again, since a slow line is no reason to give up.
 */
export const AUTH_TIMEOUT_CLOSE_CODE = 4408;

/** The WebSocket address of a controller's `http(s)://` one: the same host and port, `ws(s)://`. */
export function toWebSocketUrl(controllerUrl: string): string {
  return controllerUrl.replace(/^http/, 'ws');
}
