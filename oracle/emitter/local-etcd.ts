import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PoolError } from '../errors.js';
import { freePort, killAndWait } from '../processes.js';
import { leaderAmong } from './agreement.js';

/**
 * A real etcd cluster on loopback (Debian's `etcd-server`): every member a process of its own,
 * with its own ports and data directory, so a test or the bench can kill one (the leader too),
 * restart it, and watch the others carry on. What runs here is etcd itself; only the machines
 * are one.
 *
 * The members use a 50 ms heartbeat and a 500 ms election timeout (etcd's defaults are 100 ms
 * and 1 s): on loopback a new leader is elected within about half a second of a kill.
 */

export interface EtcdMember {
  name: string;
  clientUrl: string;
  peerUrl: string;
  dataDir: string;
  process?: ChildProcess;
}

export interface LocalEtcdOptions {
  dir: string;
  /** Members (default 3). */
  size?: number;
  /** The `etcd` binary (default `etcd` on the PATH). */
  bin?: string;
  /** Where each member's output goes (default: dropped). */
  onOutput?: (member: string, line: string) => void;
}

export class LocalEtcd {
  private constructor(
    readonly members: EtcdMember[],
    private readonly o: LocalEtcdOptions,
  ) {}

  /** Starts the cluster and waits until every member says it is healthy. */
  static async start(o: LocalEtcdOptions): Promise<LocalEtcd> {
    const size = o.size ?? 3;
    const members: EtcdMember[] = [];
    for (let i = 1; i <= size; i++) {
      const [client, peer] = [await freePort(), await freePort()];
      members.push({ name: `etcd${i}`, clientUrl: `http://127.0.0.1:${client}`, peerUrl: `http://127.0.0.1:${peer}`, dataDir: join(o.dir, `etcd${i}`) });
    }
    const cluster = new LocalEtcd(members, o);
    try {
      for (const m of members) await cluster.launch(m, 'new');
      await cluster.waitHealthy();
    } catch (e) {
      await cluster.stop();
      throw e;
    }
    return cluster;
  }

  /** The client URLs, for a replica's `--etcd`. */
  get endpoints(): string[] {
    return this.members.map((m) => m.clientUrl);
  }

  private async launch(m: EtcdMember, state: 'new' | 'existing'): Promise<void> {
    await mkdir(m.dataDir, { recursive: true });
    const initialCluster = this.members.map((x) => `${x.name}=${x.peerUrl}`).join(',');
    const args = [
      '--name', m.name,
      '--data-dir', m.dataDir,
      '--listen-client-urls', m.clientUrl,
      '--advertise-client-urls', m.clientUrl,
      '--listen-peer-urls', m.peerUrl,
      '--initial-advertise-peer-urls', m.peerUrl,
      '--initial-cluster', initialCluster,
      '--initial-cluster-state', state,
      '--initial-cluster-token', 'mina-pool-local',
      '--heartbeat-interval', '50',
      '--election-timeout', '500',
      '--logger', 'zap',
      '--log-level', 'error',
    ];
    // The members share this machine's cores: one Go thread each keeps them (and their garbage
    // collectors) from crowding each other and the replicas (unless the caller set GOMAXPROCS).
    const env = { GOMAXPROCS: '1', ...process.env };
    const child = spawn(this.o.bin ?? 'etcd', args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    const out = (d: Buffer) => {
      for (const line of d.toString().split('\n')) if (line.trim()) this.o.onOutput?.(m.name, line);
    };
    child.stdout!.on('data', out);
    child.stderr!.on('data', out);
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', () => resolve());
      child.once('error', (e: NodeJS.ErrnoException) =>
        reject(e.code === 'ENOENT' ? new PoolError('NO_ETCD', "etcd is not installed here (Debian: apt-get install etcd-server etcd-client)") : e),
      );
    });
    m.process = child;
  }

  /** Whether a member answers `/health` with `true`. */
  async healthy(m: EtcdMember): Promise<boolean> {
    try {
      const r = await fetch(`${m.clientUrl}/health`, { signal: AbortSignal.timeout(1_000) });
      return ((await r.json()) as { health?: string }).health === 'true';
    } catch {
      return false;
    }
  }

  /** Waits until every running member is healthy (a quorum and a leader). */
  async waitHealthy(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const running = this.members.filter((m) => m.process);
      if ((await Promise.all(running.map((m) => this.healthy(m)))).every(Boolean)) return;
      if (Date.now() > deadline) throw new PoolError('ETCD_UNHEALTHY', `the local etcd cluster is not healthy after ${timeoutMs / 1000} s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** The member that leads now (as the running members say), if one does. */
  async leader(): Promise<EtcdMember | undefined> {
    // Each running member's status names its own id and the leader's.
    const statuses = await Promise.all(
      this.members
        .filter((m) => m.process)
        .map(async (m) => {
          try {
            const r = await fetch(`${m.clientUrl}/v3/maintenance/status`, { method: 'POST', body: '{}', signal: AbortSignal.timeout(1_000) });
            const s = (await r.json()) as { header?: { member_id?: string }; leader?: string; raftTerm?: string };
            return s.header?.member_id && s.leader ? [{ of: m, member: s.header.member_id, leader: s.leader, term: Number(s.raftTerm ?? 0) }] : [];
          } catch {
            return [];
          }
        }),
    );
    return leaderAmong(statuses.flat());
  }

  /** SIGKILLs a member. */
  async kill(m: EtcdMember): Promise<void> {
    const p = m.process;
    if (!p) return;
    m.process = undefined;
    await killAndWait(p);
  }

  /** Starts a killed member again with its data (it rejoins the cluster). */
  async restart(m: EtcdMember): Promise<void> {
    if (m.process) return;
    await this.launch(m, 'existing');
  }

  /** Stops every member. */
  async stop(): Promise<void> {
    await Promise.all(this.members.map((m) => this.kill(m)));
  }
}
