import { parseFilter, type DeadLetterView } from '../../../cli/dead-letter-queue';

const view = (overrides: Partial<DeadLetterView>): DeadLetterView => ({
  dlqMessageId: 'd',
  origin: 'function',
  attributes: [],
  body: '{}',
  ...overrides,
});

describe('iga dlq redrive --filter', () => {
  const approver = view({
    requestId: 'HR-1',
    reason: 'SailPoint refused it (400): Approver missing',
    sourceMessageId: 'm-1',
  });
  const invalid = view({
    requestId: 'HR-2',
    reason: 'invalid message: the body is not JSON',
    sourceMessageId: 'm-2',
  });

  test('field=value is exact, field~text contains in any case, a bare text searches every field', () => {
    expect([approver, invalid].filter(parseFilter('requestId=HR-1'))).toEqual([approver]);
    expect([approver, invalid].filter(parseFilter('requestId=HR'))).toEqual([]);
    expect([approver, invalid].filter(parseFilter('reason~APPROVER'))).toEqual([approver]);
    expect([approver, invalid].filter(parseFilter('messageId=m-2'))).toEqual([invalid]);
    expect([approver, invalid].filter(parseFilter('not json'))).toEqual([invalid]);
  });

  test('an unknown field is refused, naming the known ones', () => {
    expect(() => parseFilter('status=failed')).toThrow(
      /unknown filter field "status": use reason, requestId/,
    );
  });
});
