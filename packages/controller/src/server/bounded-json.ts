/** Deeper than any call or report nests; JSON.parse of a 1 MiB `[[[[…` blocks the daemon ~0.5 s. */
export const MAX_JSON_DEPTH = 64;

/**
 * The WebSocket's JSON encoder, refusing a message that nests deeper than `MAX_JSON_DEPTH` before
 * parsing it (issue 16 item 2: a nested message blocked the event loop for seconds). One pass
 * over the text, strings skipped.
 */
export const boundedJsonEncoder = {
  encode: (data: unknown): string => JSON.stringify(data),
  decode: (data: string | Buffer): unknown => {
    if (typeof data !== 'string') throw new Error('binary messages are not taken: JSON goes in text frames');
    let depth = 0;
    let inString = false;
    for (let i = 0; i < data.length; i++) {
      const code = data.charCodeAt(i);
      if (inString) {
        if (code === 0x5c)
          i++; // a backslash: the next character is escaped
        else if (code === 0x22) inString = false;
      } else if (code === 0x22) inString = true;
      else if (code === 0x5b || code === 0x7b) {
        if (++depth > MAX_JSON_DEPTH) throw new Error(`a message may nest ${MAX_JSON_DEPTH} levels deep`);
      } else if (code === 0x5d || code === 0x7d) depth--;
    }
    return JSON.parse(data);
  },
};
