import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** A test server listening on loopback. */
export interface Listening {
  readonly port: number;
  /** Destroys open connections (clients keep them alive between requests), then stops the server; needs no `this`. */
  readonly close: () => Promise<void>;
}

/** Starts `server` on a free port of 127.0.0.1. */
export async function listenOnLoopback(server: Server): Promise<Listening> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * A request listener running an async handler: a handler that fails answers 500 (or, once its
 * headers are out, has its response destroyed), instead of leaving a rejection unhandled and the
 * client waiting.
 */
export function asyncListener(handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>): RequestListener {
  return (req, res) => {
    handler(req, res).catch((error: unknown) => {
      const failure = error instanceof Error ? error : new Error(String(error));
      if (res.headersSent) res.destroy(failure);
      else res.writeHead(500, { 'content-type': 'text/plain' }).end(`test server failed: ${failure.message}`);
    });
  };
}
