import { RateLimiter } from '../../../sandbox/rate-limit';

describe('sandbox rate limiter', () => {
  it('allows `limit` hits per window per client and version, then says how long to wait', () => {
    let now = 0;
    const limiter = new RateLimiter({ limit: 2, windowMs: 10_000 }, () => now);
    expect(limiter.hit('a', 'beta')).toEqual({ allowed: true });
    now = 2_500;
    expect(limiter.hit('a', 'beta')).toEqual({ allowed: true });
    now = 3_000;
    // The first hit (t=0) leaves the window at t=10 000: 7 s from now.
    expect(limiter.hit('a', 'beta')).toEqual({ allowed: false, retryAfterSeconds: 7 });
    expect(limiter.hit('a', 'v3')).toEqual({ allowed: true });
    expect(limiter.hit('b', 'beta')).toEqual({ allowed: true });
    now = 9_999.5;
    expect(limiter.hit('a', 'beta')).toEqual({ allowed: false, retryAfterSeconds: 1 });
    now = 10_000;
    expect(limiter.hit('a', 'beta')).toEqual({ allowed: true });
    // Rejected hits were not counted: the t=2 500 hit frees the next slot.
    expect(limiter.hit('a', 'beta')).toEqual({ allowed: false, retryAfterSeconds: 3 });
  });

  it('forgets everything on reset and rejects nonsense settings', () => {
    const limiter = new RateLimiter({ limit: 1, windowMs: 1000 }, () => 0);
    limiter.hit('a', 'beta');
    limiter.reset();
    expect(limiter.hit('a', 'beta').allowed).toBe(true);
    expect(() => new RateLimiter({ limit: 0, windowMs: 1000 })).toThrow(RangeError);
    expect(() => new RateLimiter({ limit: 1, windowMs: 0 })).toThrow(RangeError);
  });
});
