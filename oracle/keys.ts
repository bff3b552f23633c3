import { PrivateKey } from 'o1js';
import { z } from 'zod';
import { InputError } from './errors.js';
import { readJsonFile, writeJsonAtomic } from './json-file.js';

/** A key file as zkapp-cli writes them: `{ "privateKey": "EK…", "publicKey": "B62…" }`. */
interface KeyFile {
  privateKey: string;
  publicKey: string;
}

const keyFileSchema = z.object({ privateKey: z.string().regex(/^EK[1-9A-HJ-NP-Za-km-z]{50}$/, 'expected an EK… private key'), publicKey: z.string().optional() });

/** Reads a key file; errors name the file and what is wrong. */
export async function readKey(file: string): Promise<PrivateKey> {
  const json = await readJsonFile(file, keyFileSchema, 'key file');
  let key: PrivateKey;
  try {
    key = PrivateKey.fromBase58(json.privateKey);
  } catch (e) {
    throw new InputError(`${file}: field 'privateKey': not a valid private key`, { file, field: 'privateKey' }, { cause: e });
  }
  if (json.publicKey !== undefined && json.publicKey !== key.toPublicKey().toBase58()) {
    throw new InputError(`${file}: field 'publicKey': does not match the private key`, { file, field: 'publicKey' });
  }
  return key;
}

/** Writes a key file (mode 0600). Keys live under `keys/`, which git ignores. */
export async function writeKey(file: string, key: PrivateKey): Promise<void> {
  const json: KeyFile = { privateKey: key.toBase58(), publicKey: key.toPublicKey().toBase58() };
  await writeJsonAtomic(file, json, 0o600);
}

/** Reads a key file, or creates one with a new random key if it does not exist. */
export async function readOrCreateKey(file: string): Promise<{ key: PrivateKey; created: boolean }> {
  try {
    return { key: await readKey(file), created: false };
  } catch (e) {
    if (!(e instanceof InputError) || (e.cause as NodeJS.ErrnoException | undefined)?.code !== 'ENOENT') throw e;
    const key = PrivateKey.random();
    await writeKey(file, key);
    return { key, created: true };
  }
}
