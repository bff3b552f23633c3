/**
 * Error classes shared by the off-chain side. Every error carries a machine-readable
 * `code` and a `context` object naming what was wrong, so a CLI can print one clear
 * line and a service can log it with its context.
 */

/** Context of an error: small, JSON-serialisable facts (file, line, field, value...). */
export type ErrorContext = Record<string, string | number | boolean | undefined>;

/** Base class: a message for people, a code for programs, a context for logs. */
export class PoolError extends Error {
  readonly code: string;
  readonly context: ErrorContext;

  constructor(code: string, message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.context = context;
  }
}

/**
 * Bad input data: a file, a record or a field that cannot be used. The message names
 * the file, the line or record, and the field.
 */
export class InputError extends PoolError {
  constructor(message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super('BAD_INPUT', message, context, options);
  }
}

/** A command line that cannot be run as given (unknown option, bad option value). */
export class UsageError extends PoolError {
  constructor(message: string, context: ErrorContext = {}) {
    super('BAD_USAGE', message, context);
  }
}

/** A remote endpoint failed, after retries where they apply. */
export class FetchError extends PoolError {
  constructor(message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super('FETCH_FAILED', message, context, options);
  }
}

/** The first problem of a failed schema check: the field's path (`a.b.0`, empty for the root) and the message. */
export function firstIssue(issues: readonly { path: readonly PropertyKey[]; message: string }[]): { field: string; message: string } {
  const issue = issues[0]!;
  return { field: issue.path.map(String).join('.'), message: issue.message };
}

/** The first problem of a failed schema check, as an {@link InputError} naming the file and the field. */
export function schemaError(issues: readonly { path: readonly PropertyKey[]; message: string }[], file: string, where = 'field'): InputError {
  const { field, message } = firstIssue(issues);
  return new InputError(`${file}: ${where} '${field || '(root)'}': ${message}`, { file, field });
}

/** A value quoted for an error message, its middle left out when it is long (keys, seeds). */
export const quoteShort = (s: string) => JSON.stringify(s.length > 24 ? `${s.slice(0, 12)}…${s.slice(-6)}` : s);
