/**
 * Child-process entry for the bounded-memory test: streams a generated page of `megabytes` MB
 * through a RecordParser in 64 KiB chunks, building (and dropping) envelope lines as a landing
 * would, and prints peak RSS and what the parser held. The body is generated as it goes, so
 * nothing but the parser can hold it.
 */

import { envelopeChunk } from '../../functions/sink/envelopeChunk.js';
import { RecordParser } from '../../functions/body/RecordParser.js';

const megabytes = Number(process.argv[2] ?? 64);
const record = (i: number) => `{"id":${i},"name":"Zoë ${i}","tags":["a","b"],"amount":${i}.50,"note":"${'lorem ipsum '.repeat(60)}"}`;
const prefix = Buffer.from('{"_source":"s","_stream":"t","data":');

const startRss = process.memoryUsage().rss;
const parser = new RecordParser({ records: 'data', maxPageBytes: 2 * megabytes * 2 ** 20 });
let expected = 0;
let landed = 0;
let maxHeld = 0;
let pending: Buffer[] = [Buffer.from('{"meta":{"next":"12345678901234567890"},"data":[')];
let pendingBytes = pending[0]!.length;
const push = (chunk: Buffer) => {
  const batch = parser.push(chunk);
  landed += batch.count;
  envelopeChunk(prefix, batch);
  maxHeld = Math.max(maxHeld, parser.heldBytes);
};
for (let sent = 0; sent < megabytes * 1e6; expected++) {
  const text = Buffer.from(`${expected === 0 ? '' : ','}${record(expected)}`);
  pending.push(text);
  pendingBytes += text.length;
  sent += text.length;
  if (pendingBytes >= 65_536) {
    push(Buffer.concat(pending));
    pending = [];
    pendingBytes = 0;
  }
}
pending.push(Buffer.from('],"has_more":false}'));
push(Buffer.concat(pending));
const page = parser.end();
landed += page.records.count;
const body = page.body as { meta: { next: string }; data: { id: number }[] };
console.log(
  JSON.stringify({
    expected,
    landed,
    recordCount: page.recordCount,
    next: body.meta.next,
    lastId: body.data[body.data.length - 1]!.id,
    maxHeld,
    startRssMiB: startRss / 2 ** 20,
    peakRssMiB: (process.resourceUsage().maxRSS * 1024) / 2 ** 20,
  }),
);
