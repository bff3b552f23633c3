import { mkdir, open, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ZodType } from 'zod';
import { InputError, schemaError } from './errors.js';

/** Parses JSON text; a syntax error names the file, line and column. */
export function parseJsonText(text: string, file: string): unknown {
  if (text.trim() === '') throw new InputError(`${file}: the file is empty`, { file });
  try {
    return JSON.parse(text);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const pos = /position (\d+)/.exec(message);
    let where = '';
    if (pos) {
      const before = text.slice(0, Number(pos[1]));
      where = `:${before.split('\n').length}:${before.length - before.lastIndexOf('\n')}`;
    }
    throw new InputError(`${file}${where}: not valid JSON (${message})`, { file }, { cause: e });
  }
}

/** Parses JSON text from a peer (etcd, a relay): what does not parse is `undefined`, for the caller's schema to refuse. */
export function parseJsonOrUndefined(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Why a file cannot be read, in words. */
export function fileProblem(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'it is a directory';
  return (e as Error).message;
}

/**
 * Reads a JSON file and checks it against a schema: a missing file, bad JSON and a field
 * that does not fit are each one {@link InputError} naming the file (and line or field).
 *
 * @example
 * const config = await readJsonFile('deploy.config.json', deployConfigSchema, 'deploy configuration');
 */
export async function readJsonFile<T>(file: string, schema: ZodType<T>, what: string): Promise<T> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new InputError(`${file}: cannot read the ${what} (${fileProblem(e)})`, { file }, { cause: e });
  }
  return parseWith(schema, parseJsonText(text, file), file);
}

/** Checks a parsed value against a schema; a field that does not fit is an {@link InputError} naming the file and field. */
export function parseWith<T>(schema: ZodType<T>, value: unknown, file: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw schemaError(parsed.error.issues, file);
  return parsed.data;
}

/** Like {@link readJsonFile}, but a missing file is `undefined`. */
export async function readJsonFileIfExists<T>(file: string, schema: ZodType<T>, what: string): Promise<T | undefined> {
  try {
    return await readJsonFile(file, schema, what);
  } catch (e) {
    if (e instanceof InputError && (e.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') return undefined;
    throw e;
  }
}

/**
 * Writes a file atomically (a temporary file, then a rename), so a crash never leaves half a
 * file; `durable` also syncs the file and its directory before returning.
 */
export async function writeTextAtomic(file: string, text: string, options: { mode?: number; durable?: boolean } = {}): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, text, options.mode === undefined ? undefined : { mode: options.mode });
  if (options.durable) await syncPath(tmp);
  await rename(tmp, file);
  if (options.durable) await syncPath(dirname(file));
}

/** Flushes a file or a directory to disk (on the thread pool). */
export async function syncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Writes JSON atomically (see {@link writeTextAtomic}). */
export async function writeJsonAtomic(file: string, value: unknown, mode?: number): Promise<void> {
  await writeTextAtomic(file, JSON.stringify(value, null, 2) + '\n', { mode });
}

/** Writes a file, or says in words why it cannot (a missing directory, no permission). */
export async function writeOutput(file: string, content: string, what: string): Promise<void> {
  try {
    await writeFile(file, content);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? `the directory ${dirname(file)} does not exist` : fileProblem(e);
    throw new InputError(`${file}: cannot write the ${what} (${why})`, { file }, { cause: e });
  }
}
