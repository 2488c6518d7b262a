import { describe, expect, it } from 'vitest';
import { hintOf } from '../../cli/errors/hint.js';
import { EXIT, exitCodeFor, explain } from '../../cli/reportError.js';
import { ConfigError, InputError, SecretError, SinkError } from '../../functions/errors.js';

const sdkError = (name: string, message: string, code?: string) => Object.assign(new Error(message), { name, ...(code ? { code } : {}) });

describe('how the CLI reports an error', () => {
  it.each([
    ['a source file problem', new ConfigError([{ file: 's.yaml', path: 'name', message: 'required' }]), EXIT.badInput],
    ['a bad argument', new InputError('--max must be a positive whole number'), EXIT.badInput],
    ['a missing secret', new SecretError('secret "apilake/x" not found'), EXIT.badInput],
    ['a lake that cannot be written', new SinkError('cannot write s3://lake/x: SlowDown'), EXIT.windowsFailed],
    ['no region', sdkError('Error', 'Region is missing'), EXIT.badInput],
    ['an empty region', sdkError('Error', 'Region not accepted: region="" is not a valid hostname component.'), EXIT.badInput],
    ['no credentials', sdkError('CredentialsProviderError', 'Could not load credentials from any providers'), EXIT.badInput],
    ['access denied', sdkError('AccessDeniedException', 'User is not authorized to perform: athena:StartQueryExecution'), EXIT.badInput],
    ['a queue that does not exist', sdkError('QueueDoesNotExist', 'The specified queue does not exist.'), EXIT.badInput],
    ['an unreachable endpoint', sdkError('Error', 'getaddrinfo ENOTFOUND sqs.eu-west-9.amazonaws.com', 'ENOTFOUND'), EXIT.badInput],
    ['the engine wrapping missing credentials', new SinkError('cannot list s3://lake/manifests/', { cause: sdkError('CredentialsProviderError', 'Could not load credentials') }), EXIT.badInput],
    ['a bug', new TypeError("Cannot read properties of undefined (reading 'x')"), EXIT.unexpected],
  ])('%s exits %i', (_, error, code) => {
    const shown = explain(error);
    expect(exitCodeFor(shown)).toBe(code);
    // Every set-up problem comes with what to do about it.
    if (code === EXIT.badInput && !(error instanceof ConfigError || error instanceof InputError || error instanceof SecretError)) expect(hintOf(shown)).toMatch(/\w/);
  });

  it('keeps the message of the error the engine wrapped, and adds the hint of its cause', () => {
    const shown = explain(new SinkError('cannot list s3://lake/manifests/: Region is missing', { cause: sdkError('Error', 'Region is missing') }));
    expect(shown).toBeInstanceOf(InputError);
    expect((shown as InputError).message).toBe('cannot list s3://lake/manifests/: Region is missing');
    expect(hintOf(shown)).toContain('set AWS_REGION');
  });
});
