import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { PrivateKey } from 'o1js';
import { InputError } from './errors.js';

/** A key file as zkapp-cli writes them: `{ "privateKey": "EK…", "publicKey": "B62…" }`. */
export interface KeyFile {
  privateKey: string;
  publicKey: string;
}

/** Reads a key file; errors name the file and what is wrong. */
export async function readKey(file: string): Promise<PrivateKey> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(`${file}: cannot read the key file (${code === 'ENOENT' ? 'no such file' : code})`, { file }, { cause: e });
  }
  let key: PrivateKey;
  try {
    const json = JSON.parse(text) as Partial<KeyFile>;
    key = PrivateKey.fromBase58(String(json.privateKey));
    if (json.publicKey !== undefined && json.publicKey !== key.toPublicKey().toBase58()) {
      throw new Error('publicKey does not match privateKey');
    }
  } catch (e) {
    throw new InputError(`${file}: not a key file ({ privateKey, publicKey }): ${(e as Error).message}`, { file, field: 'privateKey' }, { cause: e });
  }
  return key;
}

/** Writes a key file (mode 0600). Keys live under `keys/`, which git ignores. */
export async function writeKey(file: string, key: PrivateKey): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const json: KeyFile = { privateKey: key.toBase58(), publicKey: key.toPublicKey().toBase58() };
  await writeFile(file, JSON.stringify(json, null, 2) + '\n', { mode: 0o600 });
}

/** Reads a key file, or creates one with a new random key if it does not exist. */
export async function readOrCreateKey(file: string): Promise<{ key: PrivateKey; created: boolean }> {
  try {
    return { key: await readKey(file), created: false };
  } catch (e) {
    if (!(e instanceof InputError) || !/no such file/.test(e.message)) throw e;
    const key = PrivateKey.random();
    await writeKey(file, key);
    return { key, created: true };
  }
}
