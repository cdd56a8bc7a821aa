import { CognigyAuthError, CognigyRateLimitError } from '../../../functions/shared/cognigy';
import { ConfigError } from '../../../functions/shared/config';
import { CognigyPreflightError } from '../../../functions/cognigy-audit/least-privilege';
import {
  CredentialRefusedError,
  decideFailure,
  messageOutcomeOf,
  outcomeOfError,
  type FailureRule,
} from '../../../functions/shared/failure-policy';
import { PermanentMessageError, RetryLaterError } from '../../../functions/shared/queue/outcomes';
import {
  SailPointAuthError,
  SailPointDeadlineError,
  SailPointError,
  SailPointNotFoundError,
  SailPointRateLimitError,
  SailPointResponseError,
  SailPointServerError,
  SailPointTimeoutError,
  SailPointValidationError,
} from '../../../functions/shared/sailpoint';

const operation = 'someOperation';

describe('the shared failure policy', () => {
  it('a refusal retrying cannot change → dead letter with the error’s message', () => {
    for (const error of [
      new PermanentMessageError('no delegate'),
      new SailPointValidationError({ operation, status: 400, messages: ['bad'] }),
      new SailPointNotFoundError({ operation, status: 404 }),
      new SailPointResponseError({ operation, status: 200 }),
    ]) {
      expect(decideFailure(error)).toEqual({ action: 'dead-letter', reason: error.message });
    }
  });

  it('transient failures and unknown errors → retry, a 429 after exactly its Retry-After', () => {
    for (const error of [
      new SailPointServerError({ operation, status: 503 }),
      new SailPointTimeoutError({ operation }),
      new Error('DynamoDB throttled'),
      'a string thrown by someone',
    ]) {
      expect(decideFailure(error)).toEqual({ action: 'retry', reason: expect.any(String) });
    }
    expect(
      decideFailure(new SailPointRateLimitError({ operation, status: 429, retryAfterSeconds: 7 })),
    ).toEqual({
      action: 'retry',
      reason: expect.stringContaining('HTTP 429'),
      delaySeconds: 7,
    });
    expect(decideFailure(new SailPointRateLimitError({ operation, status: 429 }))).not.toHaveProperty(
      'delaySeconds',
    );
    expect(
      decideFailure(new CognigyRateLimitError({ operation, status: 429, retryAfterSeconds: 3 })),
    ).toMatchObject({
      action: 'retry',
      delaySeconds: 3,
    });
    expect(decideFailure(new RetryLaterError('lease held', 12))).toEqual({
      action: 'retry',
      reason: 'lease held',
      delaySeconds: 12,
    });
  });

  it('credentials, rights and settings → the run fails (every other item would fail the same way)', () => {
    for (const error of [
      new SailPointAuthError({ operation, status: 401 }),
      new SailPointAuthError({ operation, status: 403 }),
      // The token endpoint refusing the client answers 400; the rights preflight sends nothing.
      new SailPointAuthError({ operation: 'oauthToken', status: 400 }),
      new SailPointAuthError({ operation }),
      new SailPointError({ operation, status: 403 }),
      new CognigyAuthError({ operation, status: 401 }),
      new CognigyAuthError({ operation, status: 403 }),
      new CognigyPreflightError(['organisation-wide right users.read'], 'trace-1'),
      new CredentialRefusedError('the credential is an API client: no user context'),
      new ConfigError([{ setting: 'X', message: 'is required' }]),
    ]) {
      expect(decideFailure(error).action).toBe('fail-run');
    }
  });

  it('403 is the credential’s, for every workflow: a queue message waits instead of being dead-lettered', () => {
    // SailPoint: "the user you are running as doesn't have access to this end-point".
    expect(outcomeOfError(new SailPointError({ operation: 'createAccessRequest', status: 403 }))).toEqual({
      status: 'retry',
      reason: expect.stringContaining('HTTP 403'),
    });
  });

  it('"not now" statuses retry: 408, 409, 425; a deadline that stopped the call before it was sent too', () => {
    for (const status of [408, 409, 425]) {
      expect(decideFailure(new SailPointError({ operation, status })).action).toBe('retry');
    }
    expect(decideFailure(new SailPointError({ operation, status: 422 })).action).toBe('dead-letter');
    expect(decideFailure(new SailPointDeadlineError({ operation, detail: 'no time left' })).action).toBe(
      'retry',
    );
  });

  it('a workflow’s own rule comes first; the shared rules decide the rest', () => {
    const loops: FailureRule = (error) =>
      error instanceof SailPointValidationError && /loop/.test(error.message)
        ? { action: 'retry', reason: 're-plan' }
        : undefined;
    expect(
      decideFailure(new SailPointValidationError({ operation, status: 400, messages: ['a loop'] }), [loops]),
    ).toEqual({
      action: 'retry',
      reason: 're-plan',
    });
    expect(decideFailure(new SailPointValidationError({ operation, status: 400 }), [loops]).action).toBe(
      'dead-letter',
    );
  });

  it('as a queue message’s outcome: a failed run keeps the message for a retry', () => {
    expect(messageOutcomeOf({ action: 'fail-run', reason: 'credentials refused' })).toEqual({
      status: 'retry',
      reason: 'credentials refused',
    });
    expect(messageOutcomeOf({ action: 'dead-letter', reason: 'bad' })).toEqual({
      status: 'dead-letter',
      reason: 'bad',
    });
    expect(messageOutcomeOf({ action: 'retry', reason: '429', delaySeconds: 4 })).toEqual({
      status: 'retry',
      reason: '429',
      delaySeconds: 4,
    });
  });
});
