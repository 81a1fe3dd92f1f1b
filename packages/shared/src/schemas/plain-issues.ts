import type { z } from 'zod';

/**
 * Zod's issues said the way a person editing a config file reads them ("must be a number, not
 * the text \"8O80\"", "unknown key \"prot\""), passed as a parse's `error` option. A schema's own
 * message wins over these; an issue not handled here keeps Zod's wording.
 */
export function plainIssue(issue: z.core.$ZodRawIssue): string | undefined {
  // A secret's wrong value is never repeated: errors reach logs and --json output.
  const describe = SECRET_KEY.test((issue.path ?? []).map(String).join('.')) ? describeKind : describeValue;
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined
        ? `missing: must be ${withArticle(issue.expected)}`
        : `must be ${withArticle(issue.expected)}, not ${describe(issue.input)}`;
    case 'unrecognized_keys':
      return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((key) => `"${key}"`).join(', ')} (a typo? plexlift config get shows the keys)`;
    case 'invalid_value':
      return `must be ${issue.values.length === 1 ? JSON.stringify(issue.values[0]) : `one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`}, not ${describe(issue.input)}`;
    case 'too_small':
      if (issue.origin === 'string' && Number(issue.minimum) === 1) return 'must not be empty';
      return issue.origin === 'number' || issue.origin === 'int'
        ? `must be ${issue.inclusive === false ? 'above' : 'at least'} ${String(issue.minimum)}`
        : undefined;
    case 'too_big':
      return issue.origin === 'number' || issue.origin === 'int'
        ? `must be ${issue.inclusive === false ? 'below' : 'at most'} ${String(issue.maximum)}`
        : undefined;
    default:
      return undefined;
  }
}

function withArticle(expected: string): string {
  if (expected === 'int') return 'a whole number';
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}

/** Keys whose values may be secrets (tokens, keys, passwords, a webhook's URL and headers). */
const SECRET_KEY = /token|secret|password|key|webhook|headers/i;

/** What kind of value was found, without the value: `text`, `a number`. */
function describeKind(input: unknown): string {
  if (input === null) return 'null';
  if (Array.isArray(input)) return 'a list';
  return typeof input === 'string' ? 'text' : typeof input === 'object' ? 'an object' : `a ${typeof input}`;
}

/** What was found, short: `the text "abc"`, `the number 3`, `a list`. */
function describeValue(input: unknown): string {
  if (input === null) return 'null';
  if (Array.isArray(input)) return 'a list';
  switch (typeof input) {
    case 'string':
      return `the text ${JSON.stringify(input.length > 40 ? `${input.slice(0, 40)}…` : input)}`;
    case 'number':
    case 'boolean':
      return `the ${typeof input} ${String(input)}`;
    case 'object':
      return 'an object';
    default:
      return typeof input;
  }
}
