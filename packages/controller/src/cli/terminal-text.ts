/**
 * Escape sequences (CSI `ESC [ … final`, OSC `ESC ] … BEL|ST`, other `ESC x`) and their 8-bit
 * forms (CSI U+009B, OSC U+009D), taken out whole so no half of one is left to the terminal.
 */
// eslint-disable-next-line no-control-regex
const ESCAPE_SEQUENCES = /(?:\u001b\[|\u009b)[0-?]*[ -/]*[@-~]|(?:\u001b\]|\u009d)[^\u0007\u001b\u009c]*(?:\u0007|\u001b\\|\u009c)?|\u001b[@-_]/g;

/** Controls that are left (C0, DEL, C1) and the bidi overrides that reorder what follows them. */
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Agent text as one printable line for the admin's terminal (issue 16 item 20: a VM's log
 * message could move the cursor, rewrite earlier lines or set the window title): escape
 * sequences removed, a line break or tab a space, any other control character `�`.
 */
export function toTerminalText(text: string): string {
  return text.replace(ESCAPE_SEQUENCES, '').replace(CONTROLS, (char) => (char === '\n' || char === '\r' || char === '\t' ? ' ' : '\ufffd'));
}

/**
 * A JSON line that stays JSON but carries no raw C1 control or bidi override (`JSON.stringify`
 * escapes C0 only): each is written `\u00XX`.
 */
export function toTerminalJson(value: unknown, indent?: number): string {
  return JSON.stringify(value, null, indent).replace(
    /[\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
