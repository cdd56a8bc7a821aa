import { resolveCognigyApiUrl } from '../../../functions/shared/cognigy/client';

describe('resolveCognigyApiUrl', () => {
  it('accepts https and plain http to a loopback address (the sandbox)', () => {
    expect(resolveCognigyApiUrl('https://api-trial.cognigy.ai/new')).toBe('https://api-trial.cognigy.ai/new');
    expect(resolveCognigyApiUrl('http://127.0.0.1:7100/new')).toBe('http://127.0.0.1:7100/new');
  });

  it('refuses plain http to a host that only looks like loopback', () => {
    expect(() => resolveCognigyApiUrl('http://127.evil.example/new')).toThrow(/must use https/);
    expect(() => resolveCognigyApiUrl('http://api-trial.cognigy.ai/new')).toThrow(/must use https/);
  });
});
