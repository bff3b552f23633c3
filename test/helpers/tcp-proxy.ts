import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy on loopback that a test can cut: while cut, every connection through it is
 * dropped and new ones are accepted but never answered (as when a network partition drops
 * packets); restored, it forwards again. A replica reaches etcd through these to be cut off
 * from it while everything else runs.
 */
export class TcpProxy {
  private cutOff = false;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const p = new TcpProxy(server, (server.address() as { port: number }).port);
    server.on('connection', (client) => {
      p.sockets.add(client);
      client.on('close', () => p.sockets.delete(client));
      client.on('error', () => client.destroy());
      if (p.cutOff) return; // held open, never answered
      const upstream = connect(target.port, target.host);
      p.sockets.add(upstream);
      upstream.on('close', () => (p.sockets.delete(upstream), client.destroy()));
      upstream.on('error', () => upstream.destroy());
      client.on('close', () => upstream.destroy());
      client.pipe(upstream);
      upstream.pipe(client);
    });
    return p;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Drops every connection; new ones hang. */
  cut(): void {
    this.cutOff = true;
    for (const s of this.sockets) s.destroy();
  }

  restore(): void {
    this.cutOff = false;
    // Connections held while cut never carried anything: drop them so clients reconnect.
    for (const s of this.sockets) s.destroy();
  }

  async stop(): Promise<void> {
    this.cut();
    await new Promise((r) => this.server.close(r));
  }
}
