import { fork, execFile } from 'node:child_process';
import { promisify } from 'node:util';
const pages = Number(process.argv[2] ?? 1000);
const child = fork('dist/bench/benchServer.mjs', [JSON.stringify({ pages, recordsPerPage: 100, templates: 50 })]);
const url = await new Promise<string>((r) => child.once('message', (m: any) => r(m.url)));
const flags = process.argv[3] === 'prof' ? ['--cpu-prof', '--cpu-prof-dir=/tmp/perfb/prof6'] : [];
for (const c of [Number(process.argv[4] ?? 2)]) {
const { stdout } = await promisify(execFile)(process.execPath, [...flags, 'dist/bench/landWindow.mjs', JSON.stringify({ url, stream: { path: '/pages', records: 'data', pagination: { type: 'page_number', page_size_param: 'per_page', page_size: 100, total_pages: 'meta.total_pages', max_pages: 100000 } }, concurrency: c })]);
const r = JSON.parse(stdout); console.log('c', c, 'rec/s', Math.round(r.records / r.ms * 1000), r);
}
child.disconnect();
process.exit(0);
