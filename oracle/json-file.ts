import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
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
  const parsed = schema.safeParse(parseJsonText(text, file));
  if (!parsed.success) throw schemaError(parsed.error.issues, file);
  return parsed.data;
}

/** Like {@link readJsonFile}, but a missing file is `undefined`. */
export async function readJsonFileIfExists<T>(file: string, schema: ZodType<T>, what: string): Promise<T | undefined> {
  try {
    await readFile(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
  }
  return readJsonFile(file, schema, what);
}

/** Writes JSON atomically (a temporary file, then a rename), so a crash never leaves half a file. */
export async function writeJsonAtomic(file: string, value: unknown, mode?: number): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(value, null, 2) + '\n', mode === undefined ? undefined : { mode });
  await rename(tmp, file);
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
