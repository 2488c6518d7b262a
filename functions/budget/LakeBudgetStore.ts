/**
 * A source's slot queue in the local lake folder, for `apilake` processes running at once on one
 * lake. The state is a numbered series of small JSON files, `<lake>/.budget/<source>/<n>.json`:
 * a step reads the highest one, applies a rule of slotQueue.ts, and creates the next number with
 * link(2), which fails when another process created it first (then the step starts over on the
 * newer state). No lock is held, so a process killed mid-step leaves nothing to clean up or wait
 * out; old numbers are deleted as new ones appear.
 */

import { randomBytes } from 'node:crypto';
import { link, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BudgetStore, StoreCalls } from './BudgetStore.js';
import { bookSlots, pauseQueue, type BookRequest, type Booking, type SlotQueue } from './slotQueue.js';

/** The budget's folder under a lake root. */
export function lakeBudgetFolder(lakeRoot: string, source: string): string {
  return join(lakeRoot, '.budget', source);
}

/** States kept behind the current one, so a slow reader still finds the one it was told about. */
const KEEP = 32;
const NAME = /^(\d{12})\.json$/;

/** The slot queue of one source in a local lake folder. */
export class LakeBudgetStore implements BudgetStore {
  readonly location: string;
  readonly calls: StoreCalls = { writes: 0, reads: 0 };
  private readonly folder: string;
  /** The highest state number this process has seen. */
  private seen = -1;
  private made = false;

  constructor(lakeRoot: string, source: string) {
    this.folder = lakeBudgetFolder(lakeRoot, source);
    this.location = this.folder;
  }

  async book(request: BookRequest): Promise<Booking> {
    return this.step((queue) => {
      const { queue: next, booking } = bookSlots(queue, request);
      return { next: booking.kind === 'booked' ? next : undefined, result: booking };
    });
  }

  async pause(untilMs: number): Promise<void> {
    await this.step((queue) => {
      const next = pauseQueue(queue, untilMs);
      return { next: next === queue ? undefined : next, result: undefined };
    });
  }

  /** Applies `rule` to the current state until its result is written without a concurrent write in between. */
  private async step<T>(rule: (state: SlotQueue) => { next: SlotQueue | undefined; result: T }): Promise<T> {
    if (!this.made) {
      await mkdir(this.folder, { recursive: true });
      this.made = true;
    }
    for (let attempt = 0; ; attempt++) {
      const { number, state } = await this.current();
      const { next, result } = rule(state);
      if (!next) return result;
      if (await this.create(number + 1, next)) {
        this.seen = number + 1;
        if (number + 1 > KEEP) await rm(this.path(number + 1 - KEEP), { force: true });
        return result;
      }
      // Lost the race: another process wrote first. A short random pause de-synchronises the next round.
      if (attempt > 2) await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(10, attempt)));
    }
  }

  /** The highest state: from the last one seen, walking forward; from a listing when that one is gone. */
  private async current(): Promise<{ number: number; state: SlotQueue }> {
    let number = this.seen;
    let state = number < 0 ? undefined : await this.read(number);
    while (state === undefined) {
      number = await this.highestListed();
      if (number < 0) return { number, state: {} };
      state = await this.read(number); // undefined when deleted between the listing and the read
    }
    for (let newer = await this.read(number + 1); newer; newer = await this.read(number + 1)) {
      number++;
      state = newer;
    }
    this.seen = number;
    return { number, state };
  }

  private async highestListed(): Promise<number> {
    const names = await readdir(this.folder).catch((error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? [] : Promise.reject(error)));
    return names.reduce((highest, name) => Math.max(highest, Number(NAME.exec(name)?.[1] ?? -1)), -1);
  }

  /** State `number`, or undefined when it does not exist (yet, or any more). */
  private async read(number: number): Promise<SlotQueue | undefined> {
    this.calls.reads++;
    try {
      return JSON.parse(await readFile(this.path(number), 'utf8')) as SlotQueue;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  /** Creates state `number` with the whole content at once; false when it exists already. */
  private async create(number: number, state: SlotQueue): Promise<boolean> {
    this.calls.writes++;
    const temp = join(this.folder, `.${randomBytes(6).toString('hex')}.tmp`);
    await writeFile(temp, JSON.stringify(state));
    try {
      await link(temp, this.path(number));
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    } finally {
      await rm(temp, { force: true });
    }
  }

  private path(number: number): string {
    return join(this.folder, `${String(number).padStart(12, '0')}.json`);
  }
}
