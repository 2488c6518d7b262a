/** Child-process entry: an S3 server (fauxqs) for the S3 landing benchmark, outside the measured process. */

import { startFauxqs } from 'fauxqs';

const server = await startFauxqs({ port: 0, logger: false });
server.createBucket('bench');
process.send!({ url: `http://127.0.0.1:${server.port}` });
process.on('disconnect', () => void server.stop().then(() => process.exit(0)));
