#!/usr/bin/env node
// Runs a mina-pool command from the compiled output, compiling first only when a source is
// newer than the last build: a command with nothing to rebuild starts without TypeScript.
//
//   node bin/run.mjs <command> [args…]   the npm scripts (`npm run backfill -- …`)
//   node bin/run.mjs --build             compile if anything changed (npm install runs it)
import { spawnSync } from 'node:child_process';
import process from 'node:process';
import { mkdirSync, readdirSync, rmdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const stamp = join(dist, '.build-stamp');
const lock = join(dist, '.build-lock');
const SOURCES = ['contracts', 'oracle', 'scripts', 'test'];
const CONFIG = ['tsconfig.json', 'package.json', 'package-lock.json'];

/** The newest modification time among the sources and the build's configuration. */
function newestSource() {
  let newest = 0;
  const visit = (dir) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const path = join(dir, e.name);
      if (e.isDirectory()) visit(path);
      else if (e.name.endsWith('.ts') || e.name.endsWith('.json')) newest = Math.max(newest, statSync(path).mtimeMs);
    }
  };
  for (const d of SOURCES) visit(join(root, d));
  for (const f of CONFIG) {
    try {
      newest = Math.max(newest, statSync(join(root, f)).mtimeMs);
    } catch {
      // optional
    }
  }
  return newest;
}

function builtAt() {
  try {
    return statSync(stamp).mtimeMs;
  } catch {
    return -1;
  }
}

const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** Compiles when stale; one build at a time (a second command waits for the first). */
function buildIfStale() {
  if (builtAt() >= newestSource()) return;
  mkdirSync(dist, { recursive: true });
  for (let waited = 0; ; waited += 100) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // Another command is building; a lock older than two minutes was left by a killed build.
      let age = 0;
      try {
        age = Date.now() - statSync(lock).mtimeMs;
      } catch {
        continue;
      }
      if (age > 120_000) rmdirSync(lock);
      else sleep(100);
    }
  }
  try {
    const started = Date.now();
    if (builtAt() >= newestSource()) return;
    process.stderr.write('compiling (sources changed since the last build)…\n');
    const tsc = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.json')], { stdio: 'inherit' });
    if (tsc.status !== 0) {
      process.stderr.write('error: the TypeScript build failed (see above); fix it and run the command again\n');
      process.exit(tsc.status ?? 1);
    }
    // The stamp takes the moment the build started: a source saved during the build is newer.
    writeFileSync(stamp, '');
    utimesSync(stamp, new Date(started), new Date(started));
  } finally {
    rmdirSync(lock);
  }
}

buildIfStale();
if (process.argv[2] === '--build') process.exit(0);
await import(pathToFileURL(join(dist, 'scripts', 'mina-pool.js')).href);
