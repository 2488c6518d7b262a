import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SecretError } from '../../functions/errors.js';
import { AwsSecretProvider, PENDING_STAGE } from '../../functions/secrets/AwsSecretProvider.js';
import { secretExample } from '../../functions/secrets/secretShapes.js';
import { createSourceClient } from '../../functions/engine/createSourceClient.js';
import { ABANDONED_WRITE_AGE_MS } from '../../functions/http/auth/RefreshTokenGrant.js';
import { authClient } from '../support/authClient.js';
import { ManualClock } from '../support/manualClock.js';
import { MOTO_AWS, startMoto, type MotoServer } from '../support/motoServer.js';
import { startOAuthServer, type OAuthServer, type OAuthServerOptions } from '../support/oauthServer.js';
import { testSource } from '../support/sources.js';

let moto: MotoServer;
let sm: SecretsManagerClient;
beforeAll(async () => {
  moto = await startMoto();
  sm = new SecretsManagerClient({ ...MOTO_AWS, endpoint: moto.endpoint });
});
afterAll(() => moto?.stop());

let counter = 0;
let name: string;
beforeEach(() => {
  name = `apilake/rotating-${++counter}`;
});

/** The secret's AWSCURRENT value and version, as Secrets Manager reports it. */
async function current(secret = name) {
  const out = await sm.send(new GetSecretValueCommand({ SecretId: secret, VersionStage: 'AWSCURRENT' }));
  return { value: JSON.parse(out.SecretString!) as Record<string, string>, version: out.VersionId! };
}
const provider = () => new AwsSecretProvider({ client: new SecretsManagerClient({ ...MOTO_AWS, endpoint: moto.endpoint }) });

describe('what the write-back relies on, as moto implements it', () => {
  it('keeps AWSCURRENT in place when PutSecretValue names another stage, and refuses to move it from a version that lost it', async () => {
    const created = await sm.send(new CreateSecretCommand({ Name: name, SecretString: '{"v":0}' }));
    const a = await sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: '{"v":"a"}', VersionStages: [PENDING_STAGE] }));
    const b = await sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: '{"v":"b"}', VersionStages: [PENDING_STAGE] }));
    expect((await current()).value).toEqual({ v: 0 });
    await sm.send(new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: 'AWSCURRENT', MoveToVersionId: a.VersionId, RemoveFromVersionId: created.VersionId }));
    const refused = await sm
      .send(new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: 'AWSCURRENT', MoveToVersionId: b.VersionId, RemoveFromVersionId: created.VersionId }))
      .catch((e: unknown) => e);
    expect((refused as Error).name).toBe('InvalidParameterException');
    expect(await current()).toEqual({ value: { v: 'a' }, version: a.VersionId });
  });
});

describe('AwsSecretProvider.replaceIfCurrent against moto', () => {
  beforeEach(async () => {
    await sm.send(new CreateSecretCommand({ Name: name, SecretString: JSON.stringify({ refresh_token: 'rt-0' }) }));
  });

  it('writes a new AWSCURRENT version when the version read is still current, and keeps the old one as AWSPREVIOUS', async () => {
    const p = provider();
    const read = await p.readVersioned(name);
    const outcome = await p.replaceIfCurrent(name, { refresh_token: 'rt-1' }, read.version);
    expect(outcome.written).toBe(true);
    expect(await current()).toEqual({ value: { refresh_token: 'rt-1' }, version: (outcome as { version: string }).version });
    const versions = await sm.send(new ListSecretVersionIdsCommand({ SecretId: name }));
    expect(versions.Versions?.find((v) => v.VersionId === read.version)?.VersionStages).toEqual(['AWSPREVIOUS']);
  });

  it('reports a lost race and leaves the winner in place when another writer moved AWSCURRENT first', async () => {
    const [p, q] = [provider(), provider()];
    const [readByP, readByQ] = await Promise.all([p.readVersioned(name), q.readVersioned(name)]);
    expect((await p.replaceIfCurrent(name, { refresh_token: 'rt-p' }, readByP.version)).written).toBe(true);
    expect(await q.replaceIfCurrent(name, { refresh_token: 'rt-q' }, readByQ.version)).toEqual({ written: false });
    expect((await current()).value).toEqual({ refresh_token: 'rt-p' });
  });

  it('lets exactly one of many simultaneous writers win', async () => {
    const writers = Array.from({ length: 6 }, () => provider());
    const reads = await Promise.all(writers.map((w) => w.readVersioned(name)));
    const outcomes = await Promise.all(writers.map((w, i) => w.replaceIfCurrent(name, { refresh_token: `rt-${i}` }, reads[i]!.version)));
    const winners = outcomes.flatMap((o, i) => (o.written ? [i] : []));
    expect(winners).toHaveLength(1);
    expect((await current()).value).toEqual({ refresh_token: `rt-${winners[0]}` });
  });

  it('fails with the operation and the way out, never the value, when Secrets Manager refuses the write', async () => {
    const read = await provider().readVersioned(name);
    await sm.send(new DeleteSecretCommand({ SecretId: name, ForceDeleteWithoutRecovery: true })); // removed by someone meanwhile
    const error = await provider()
      .replaceIfCurrent(name, { refresh_token: 'rt-unsaved-1' }, read.version)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SecretError);
    expect((error as Error).message).toBe(
      `secret "${name}": the rotated value could not be written back to Secrets Manager (PutSecretValue: ResourceNotFoundException). ` +
        'If the provider revoked the old refresh token, authorize again and store the new one in the secret.',
    );
    expect((error as Error).message).not.toContain('rt-unsaved-1');
  });

  it('does not serve the old value from its cache after a write', async () => {
    const p = provider();
    expect((await p.getSecretJson(name)).refresh_token).toBe('rt-0'); // now cached for 5 minutes
    await p.replaceIfCurrent(name, { refresh_token: 'rt-1' }, (await p.readVersioned(name)).version);
    expect((await p.getSecretJson(name)).refresh_token).toBe('rt-1');
  });

  it('names a missing secret', async () => {
    const error = await provider()
      .readVersioned('apilake/absent', { example: secretExample('oauth2_refresh_token') })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SecretError);
    expect((error as Error).message).toBe('secret "apilake/absent" could not be read from Secrets Manager: it does not exist in this account and region');
  });

  it('shows the JSON its auth type needs when the stored text is not JSON, never the text', async () => {
    await sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'refresh_token=rt-plain-text' }));
    const error = await provider()
      .readVersioned(name, { example: secretExample('oauth2_refresh_token') })
      .catch((e: unknown) => e);
    expect((error as Error).message).toBe(`secret "${name}" (Secrets Manager) is not valid JSON; expected an object such as {"client_id": "…", "client_secret": "…", "refresh_token": "…"}`);
  });
});

describe('oauth2_refresh_token through the real AwsSecretProvider and moto', () => {
  let server: OAuthServer;
  afterAll(() => server?.close());

  async function start(options: OAuthServerOptions = {}) {
    await server?.close();
    server = await startOAuthServer({
      clientSecret: 'cs-aws-secret',
      refreshToken: 'rt-initial-aws',
      // The API checks, as it serves each data request, that the refresh token issued with the
      // access token it sees is already the one in Secrets Manager: persisted before use.
      beforeData: async ({ refreshToken }) => {
        persistedAtUse.push((await current()).value.refresh_token === refreshToken);
        storedBeforeUse.push((await storedTokens()).includes(refreshToken!));
      },
      ...options,
    });
    await sm.send(new CreateSecretCommand({ Name: name, SecretString: JSON.stringify({ client_id: 'client-1', client_secret: 'cs-aws-secret', refresh_token: 'rt-initial-aws' }) }));
  }
  /** Per data request: the secret's current token is the one issued with the access token used. */
  let persistedAtUse: boolean[];
  /** Per data request: that token was in some version of the secret by then (concurrent runs may have moved on). */
  let storedBeforeUse: boolean[];
  beforeEach(() => {
    persistedAtUse = [];
    storedBeforeUse = [];
  });
  async function storedTokens(): Promise<string[]> {
    const versions = await sm.send(new ListSecretVersionIdsCommand({ SecretId: name, IncludeDeprecated: true }));
    return Promise.all(
      versions.Versions!.map(
        async (v) => (JSON.parse((await sm.send(new GetSecretValueCommand({ SecretId: name, VersionId: v.VersionId }))).SecretString!) as { refresh_token: string }).refresh_token,
      ),
    );
  }
  const auth = () => ({ type: 'oauth2_refresh_token', secret: name, token_url: server.tokenUrl, scope: 'crm.objects.read' });

  it('writes each rotated refresh token to Secrets Manager before the access token is used', async () => {
    await start();
    const clock = new ManualClock(Date.now());
    const c = await authClient(server.url, auth(), provider(), { clock });
    for (let hour = 0; hour < 3; hour++) {
      await c.get('/data');
      clock.advance(3_600_000);
    }
    expect(server.exchanges.map((e) => e.outcome)).toEqual(['ok', 'ok', 'ok']);
    expect(persistedAtUse).toEqual([true, true, true]);
    expect((await current()).value).toEqual({ client_id: 'client-1', client_secret: 'cs-aws-secret', refresh_token: server.latestRefreshToken() });
  });

  it('starts from the rotated token in a warm function whose cache still holds the old one', async () => {
    await start();
    const warm = provider();
    expect((await warm.getSecretJson(name)).refresh_token).toBe('rt-initial-aws'); // cached by an earlier invocation
    await (await authClient(server.url, auth(), provider())).get('/data'); // another container rotates
    await (await authClient(server.url, auth(), warm)).get('/data');
    expect(server.exchanges.map((e) => e.outcome)).toEqual(['ok', 'ok']);
    expect(server.exchanges[1]!.presented).toBe(server.exchanges[0]!.issuedRefreshToken);
  });

  it('lets two containers that read the same token both succeed when one loses the exchange (reuse rejected)', async () => {
    await start();
    const [a, b] = [await authClient(server.url, auth(), provider()), await authClient(server.url, auth(), provider())];
    const held = server.hold();
    const first = a.get('/data');
    await held.arrived;
    await b.get('/data');
    held.release();
    expect((await first).status).toBe(200);
    expect(server.exchanges.map((e) => e.outcome)).toEqual(['ok', 'invalid_grant', 'ok']);
    expect((await current()).value.refresh_token).toBe(server.latestRefreshToken());
    expect(persistedAtUse).toEqual([true, true]);
  });

  it('re-reads and retries once when it loses the write race (reuse accepted), ending with the newest token stored', async () => {
    await start({ reuse: 'accept' });
    const [a, b] = [await authClient(server.url, auth(), provider()), await authClient(server.url, auth(), provider())];
    const held = server.hold();
    const late = a.get('/data'); // a's exchange of rt-initial waits
    await held.arrived;
    await b.get('/data'); // b exchanges rt-initial and saves its successor
    held.release(); // a's exchange also succeeds, but a's version check fails
    expect((await late).status).toBe(200);
    const [byB, byA, retry] = server.exchanges;
    expect([byB!.presented, byA!.presented, retry!.presented]).toEqual(['rt-initial-aws', 'rt-initial-aws', byB!.issuedRefreshToken]);
    expect((await current()).value.refresh_token).toBe(retry!.issuedRefreshToken);
    expect(server.latestRefreshToken()).toBe(retry!.issuedRefreshToken);
  });

  it('reuses the access token in the next invocation of a warm function instead of rotating again', async () => {
    await start();
    // As the handler builds its client on each invocation: createSourceClient with the real provider.
    const invoke = async () => {
      const client = await createSourceClient(testSource(server.url, { path: '/data' }, { auth: auth() }), provider());
      return client.requestJson({ method: 'GET', url: new URL('/data', server.url), label: 'page 1' });
    };
    expect((await invoke()).status).toBe(200);
    expect((await invoke()).status).toBe(200);
    expect(server.exchanges).toHaveLength(1);
    expect(persistedAtUse).toEqual([true, true]);
  });

  /** A run that exchanged the stored token and stored the successor as pending, then died before making it current. */
  async function diedMidWrite(): Promise<string> {
    const response = await fetch(server.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'rt-initial-aws', client_id: 'client-1', client_secret: 'cs-aws-secret' }),
    });
    const successor = ((await response.json()) as { refresh_token: string }).refresh_token;
    const value = { client_id: 'client-1', client_secret: 'cs-aws-secret', refresh_token: successor };
    await sm.send(new PutSecretValueCommand({ SecretId: name, SecretString: JSON.stringify(value), VersionStages: [PENDING_STAGE] }));
    return successor;
  }

  it('recovers the successor that a run stored but never made current before it died', async () => {
    await start();
    const successor = await diedMidWrite();
    const clock = new ManualClock(Date.now() + ABANDONED_WRITE_AGE_MS); // the next tick, later
    const c = await authClient(server.url, auth(), provider(), { clock, sleep: () => Promise.resolve() });
    expect((await c.get('/data')).status).toBe(200);
    expect(server.exchanges.map((e) => [e.presented, e.outcome])).toEqual([
      ['rt-initial-aws', 'ok'],
      ['rt-initial-aws', 'invalid_grant'],
      [successor, 'ok'],
    ]);
    expect((await current()).value.refresh_token).toBe(server.latestRefreshToken());
    expect(persistedAtUse).toEqual([true]);
  });

  it('does not take over a pending write young enough to be still in progress', async () => {
    await start();
    const successor = await diedMidWrite();
    const c = await authClient(server.url, auth(), provider(), { clock: new ManualClock(Date.now()), sleep: () => Promise.resolve() });
    const error = await c.get('/data').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SecretError);
    expect(server.exchanges.map((e) => e.outcome)).toEqual(['ok', 'invalid_grant']);
    expect((error as Error).message).not.toContain(successor);
  });

  it('keeps every container working when several refresh at once', async () => {
    await start();
    const clients = await Promise.all([1, 2, 3].map(() => authClient(server.url, auth(), provider())));
    const responses = await Promise.all(clients.map((c) => c.get('/data')));
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200]);
    expect((await current()).value.refresh_token).toBe(server.latestRefreshToken());
    expect(storedBeforeUse).toEqual([true, true, true]);
  });
});
