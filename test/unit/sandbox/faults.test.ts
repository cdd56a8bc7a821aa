import { FaultInjector } from '../../../sandbox/faults';

describe('sandbox fault injector', () => {
  it('fires a rule `times` times, first matching rule first', () => {
    const faults = new FaultInjector();
    faults.inject({ path: '/a', status: 500, times: 2 });
    faults.inject({ status: 503 });
    expect(faults.take('GET', '/a')?.status).toBe(500);
    expect(faults.take('GET', '/b')?.status).toBe(503);
    expect(faults.take('GET', '/a')?.status).toBe(500);
    expect(faults.take('GET', '/a')).toBeUndefined();
    expect(faults.pending).toBe(0);
  });

  it('matches the method case-insensitively and the path exactly or by pattern', () => {
    const faults = new FaultInjector();
    faults.inject({ method: 'delete', path: /^\/beta\/x\/\w+$/g, status: 500, times: Infinity });
    expect(faults.take('GET', '/beta/x/1')).toBeUndefined();
    expect(faults.take('DELETE', '/beta/x/1')).toBeDefined();
    expect(faults.take('DELETE', '/beta/x/2')).toBeDefined(); // a global pattern's lastIndex does not leak
    expect(faults.take('DELETE', '/beta/x/1/y')).toBeUndefined();
  });

  it('fills defaults: 500 for a bare body, Retry-After 1 for a 429', () => {
    const faults = new FaultInjector();
    faults.inject({ body: 'x' });
    faults.inject({ status: 429 });
    faults.inject({ latencyMs: 5 });
    expect(faults.take('GET', '/')).toEqual({
      status: 500,
      body: 'x',
      latencyMs: 0,
      dropConnection: false,
      afterRoute: false,
    });
    expect(faults.take('GET', '/')).toEqual({
      status: 429,
      retryAfterSeconds: 1,
      latencyMs: 0,
      dropConnection: false,
      afterRoute: false,
    });
    expect(faults.take('GET', '/')).toEqual({ latencyMs: 5, dropConnection: false, afterRoute: false });
  });

  it('draws against the probability', () => {
    const draws = [0.9, 0.1];
    const faults = new FaultInjector(() => draws.shift()!);
    faults.inject({ status: 500, probability: 0.25 });
    expect(faults.take('GET', '/')).toBeUndefined();
    expect(faults.take('GET', '/')).toBeDefined();
    faults.inject({ status: 500, probability: 0 });
    draws.push(0);
    expect(faults.take('GET', '/')).toBeUndefined();
  });

  it('keeps afterRoute rules apart: taken only when asked for after the route', () => {
    const faults = new FaultInjector();
    faults.inject({ path: '/a', status: 503, afterRoute: true });
    expect(faults.take('POST', '/a')).toBeUndefined();
    expect(faults.take('POST', '/a', true)).toMatchObject({ status: 503, afterRoute: true });
    expect(() => faults.inject({ latencyMs: 5, afterRoute: true })).toThrow(/afterRoute/);
  });
});
