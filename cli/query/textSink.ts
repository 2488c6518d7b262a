/** Where query text goes: a writable stream (stdout, a file) written with back-pressure. */

import { once } from 'node:events';
import { ApilakeError } from '../../functions/index.js';

/** Takes text; resolves when the destination can take more, so memory stays bounded. */
export interface TextSink {
  write(text: string): Promise<void>;
}

/** The reader of the output went away (`apilake query … | head`): nothing more can be written. */
export class OutputClosedError extends ApilakeError {
  constructor(cause: unknown) {
    super('the output was closed by its reader', { cause });
    this.name = 'OutputClosedError';
  }
}

/**
 * A sink over a stream. A write waits for `drain` when the stream's buffer is full. A reader
 * that closes the pipe (EPIPE) makes every later write fail with {@link OutputClosedError};
 * any other error of the stream makes them fail with that error.
 */
export function streamSink(stream: NodeJS.WritableStream): TextSink {
  let failure: Error | undefined;
  // Without a listener, the stream's error (EPIPE after `| head`) would end the process as uncaught.
  stream.on('error', (error: NodeJS.ErrnoException) => {
    failure ??= error.code === 'EPIPE' ? new OutputClosedError(error) : error;
  });
  const check = () => {
    if (failure) throw failure;
  };
  return {
    async write(text) {
      check();
      if (text === '' || stream.write(text)) return;
      // once() rejects when the stream errs while waiting; the listener above has kept the error.
      await once(stream, 'drain').catch(() => undefined);
      check();
    },
  };
}
