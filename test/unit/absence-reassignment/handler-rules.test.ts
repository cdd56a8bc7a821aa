import { outcomeOfAbsenceError } from '../../../functions/absence-reassignment/handler';
import { loadAbsenceReassignmentSettings } from '../../../functions/absence-reassignment/settings';
import { ConfigError } from '../../../functions/shared/config';
import { PermanentMessageError } from '../../../functions/shared/queue/outcomes';
import {
  SailPointAuthError,
  SailPointNotFoundError,
  SailPointRateLimitError,
  SailPointResponseError,
  SailPointServerError,
  SailPointTimeoutError,
  SailPointValidationError,
} from '../../../functions/shared/sailpoint';

const operation = 'createReassignmentConfiguration';

describe('what a failure means for the message', () => {
  it('429 → retry after exactly Retry-After; without the header → the queue’s own timeout', () => {
    expect(
      outcomeOfAbsenceError(new SailPointRateLimitError({ operation, status: 429, retryAfterSeconds: 7 })),
    ).toEqual({
      status: 'retry',
      reason: expect.stringContaining('HTTP 429'),
      delaySeconds: 7,
    });
    expect(outcomeOfAbsenceError(new SailPointRateLimitError({ operation, status: 429 }))).not.toHaveProperty(
      'delaySeconds',
    );
  });

  it('a refusal that retrying cannot change → dead letter with SailPoint’s message', () => {
    for (const error of [
      new SailPointValidationError({ operation, status: 400, messages: ['loop'] }),
      new SailPointNotFoundError({ operation, status: 404 }),
      new SailPointResponseError({ operation, status: 200 }),
      new PermanentMessageError('no delegate for absence a of b: …'),
    ]) {
      expect(outcomeOfAbsenceError(error)).toEqual({ status: 'dead-letter', reason: error.message });
    }
  });

  it('server errors, timeouts, auth problems and unknown errors → retry (never dropped)', () => {
    for (const error of [
      new SailPointServerError({ operation, status: 503 }),
      new SailPointTimeoutError({ operation }),
      new SailPointAuthError({ operation, status: 401 }),
      new Error('DynamoDB throttled'),
    ]) {
      expect(outcomeOfAbsenceError(error).status).toBe('retry');
    }
  });
});

describe('settings', () => {
  const required = {
    ABSENCES_TABLE: 'absences',
    QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/absences.fifo',
    DEAD_LETTER_QUEUE_URL: 'http://sqs.us-east-1.127.0.0.1:4566/000000000000/absences-dlq.fifo',
  };

  it('applies the documented defaults', () => {
    expect(loadAbsenceReassignmentSettings(required)).toMatchObject({
      MAX_RECEIVE_COUNT: 5,
      DELEGATE_MAX_HOPS: 5,
      ABSENCE_RETENTION_DAYS: 400,
      OCCURRED_AT_TOLERANCE_SECONDS: 300,
    });
  });

  it('names every bad setting', () => {
    try {
      loadAbsenceReassignmentSettings({
        ...required,
        ABSENCES_TABLE: undefined,
        QUEUE_URL: 'absences',
        DELEGATE_MAX_HOPS: '0',
        NOTIFICATIONS_TOPIC_ARN: 'absence-notices',
        OCCURRED_AT_TOLERANCE_SECONDS: '5m',
      });
      throw new Error('expected a ConfigError');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems.map((p) => p.setting).sort()).toEqual([
        'ABSENCES_TABLE',
        'DELEGATE_MAX_HOPS',
        'NOTIFICATIONS_TOPIC_ARN',
        'OCCURRED_AT_TOLERANCE_SECONDS',
        'QUEUE_URL',
      ]);
    }
  });
});
