/**
 * A budget store that answers as fast as loopback HTTP allows: one source's slot queue in the
 * memory of a small server (the rules of slotQueue.ts, applied at once, as a DynamoDB conditional
 * update applies them), and {@link HttpBudgetStore}, the client every worker process books
 * through. The benchmark runs the shared budget against it beside dynalite, to tell what the
 * store's latency costs from what the rest of the machine does.
 */

import { createServer } from 'node:http';
import type { BudgetStore, StoreCalls } from '../../functions/budget/BudgetStore.js';
import { bookSlots, pauseQueue, type BookRequest, type Booking, type SlotQueue } from '../../functions/budget/slotQueue.js';
import { listenOnLoopback } from './listenOnLoopback.js';

/** A running in-memory store. */
export interface MemoryBudgetServer {
  readonly endpoint: string;
  close(): Promise<void>;
}

/** Starts the server on a free loopback port: `POST /book` (a {@link BookRequest}) and `POST /pause` (`{untilMs}`). */
export async function startMemoryBudgetServer(): Promise<MemoryBudgetServer> {
  let queue: SlotQueue = {};
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const input = JSON.parse(body) as BookRequest & { untilMs: number };
      let answer: Booking | Record<string, never> = {};
      if (req.url === '/book') ({ queue, booking: answer } = bookSlots(queue, input));
      else queue = pauseQueue(queue, input.untilMs);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
    });
  });
  const listening = await listenOnLoopback(server);
  return { endpoint: `http://127.0.0.1:${listening.port}`, close: listening.close };
}

/** The client of a {@link startMemoryBudgetServer} store. */
export class HttpBudgetStore implements BudgetStore {
  readonly calls: StoreCalls = { writes: 0, reads: 0 };
  readonly location: string;

  constructor(private readonly endpoint: string) {
    this.location = `memory store at ${endpoint}`;
  }

  async book(request: BookRequest): Promise<Booking> {
    this.calls.writes++;
    return (await this.post('/book', request)) as Booking;
  }

  async pause(untilMs: number): Promise<void> {
    this.calls.writes++;
    await this.post('/pause', { untilMs });
  }

  private async post(path: string, body: unknown): Promise<unknown> {
    const response = await fetch(`${this.endpoint}${path}`, { method: 'POST', body: JSON.stringify(body), signal: AbortSignal.timeout(2_000) });
    if (!response.ok) throw new Error(`memory budget store answered ${response.status}`);
    return response.json();
  }
}
