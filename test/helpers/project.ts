import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mockProof } from '../../oracle/chain/o1js-internals.js';
import { startChainProcess, type ChildChain } from '../../oracle/localnet/process.js';
import { projectRoot } from '../../oracle/paths.js';
import { freePort } from '../../oracle/processes.js';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The built `mina-pool` command (`npm test` builds first). */
const BIN = join(projectRoot(), 'dist', 'scripts', 'mina-pool.js');

/** Runs `mina-pool …` in `cwd` as a user would, without a shell. */
export function runBin(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** A free TCP port on 127.0.0.1 (the project's own helper). */
export { freePort };

/**
 * A temporary project: the shipped deploy.config.json (its local alias on a free port),
 * pool.json and CONSTITUTION.md, and the compile cache's mock proof (so commands skip
 * making it again).
 */
export async function tempProject(prefix = 'pool-project-') {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  for (const f of ['pool.json', 'CONSTITUTION.md']) await copyFile(join(projectRoot(), f), join(dir, f));
  const port = await freePort();
  const config = JSON.parse(await readFile(join(projectRoot(), 'deploy.config.json'), 'utf8'));
  config.deployAliases.local.url = `http://127.0.0.1:${port}/graphql`;
  await writeFile(join(dir, 'deploy.config.json'), JSON.stringify(config, null, 2));
  const url = config.deployAliases.local.url as string;
  await mkdir(join(dir, 'cache'), { recursive: true });
  await writeFile(join(dir, 'cache', 'mock-proof.b64'), await mockProof(join(projectRoot(), 'cache')));
  let chain: ChildChain | undefined;
  return {
    dir,
    url,
    run: (...args: string[]) => runBin(dir, args),
    /** Starts `mina-pool chain` for this project in a child process. */
    startChain: async (...args: string[]) => {
      chain = await startChainProcess({ bin: BIN, args, url, cwd: dir, quiet: true });
      return chain;
    },
    stopChain: async () => {
      await chain?.stop();
      chain = undefined;
    },
    cleanup: async () => {
      await chain?.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Expects a command to fail with `code` and a message on stderr, never a stack trace. */
export function expectRefusal(r: CommandResult, code: number, message: RegExp): void {
  if (r.code !== code || !message.test(r.stderr)) throw new Error(`expected exit ${code} and ${message}; got exit ${r.code}:\n${r.stderr.slice(-1500)}`);
  if (/unexpected error| at .*\.js:\d+/.test(r.stderr)) throw new Error(`a stack trace was printed:\n${r.stderr}`);
}
