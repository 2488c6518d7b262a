/**
 * A TCP proxy in front of a server (DynamoDB's stand-in) that can be made to fail the way an
 * unreachable endpoint does: `refuse` resets every open connection and every new one (a host
 * that is down), `stall` accepts connections and never answers (a network that drops packets;
 * the client's timeouts must end the call), `pass` forwards again. `dropResponses(n)` loses the
 * next n answers after the server has acted on the request: the connection is reset instead of
 * forwarding them, as when a response is lost on the way back (the caller cannot tell whether
 * its write was applied).
 */

import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net';

/** How the proxy treats connections. */
export type ProxyMode = 'pass' | 'refuse' | 'stall';

/** A running proxy. */
export interface TcpFaultProxy {
  readonly endpoint: string;
  setMode(mode: ProxyMode): void;
  /** Resets the client's connection instead of forwarding each of the next `count` answers. */
  dropResponses(count: number): void;
  /** Answers dropped so far. */
  dropped(): number;
  /** Connections accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

export async function startTcpFaultProxy(target: string): Promise<TcpFaultProxy> {
  const { hostname, port } = new URL(target);
  let mode: ProxyMode = 'pass';
  let accepted = 0;
  let toDrop = 0;
  let dropped = 0;
  const open = new Set<Socket>();
  const track = (socket: Socket) => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const server = createServer((client) => {
    accepted++;
    track(client);
    if (mode === 'refuse') return void client.resetAndDestroy();
    if (mode === 'stall') return; // held open, never answered
    const upstream = createConnection({ host: hostname, port: Number(port) });
    track(upstream);
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      if (toDrop > 0) {
        toDrop--;
        dropped++;
        client.resetAndDestroy();
        return;
      }
      if (!client.destroyed) client.write(chunk);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    setMode: (next) => {
      mode = next;
      // Kept-alive connections would carry on as before: the new mode applies to them at once.
      if (next !== 'pass') for (const socket of open) socket.resetAndDestroy();
    },
    dropResponses: (count) => (toDrop = count),
    dropped: () => dropped,
    connections: () => accepted,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
