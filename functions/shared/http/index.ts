/**
 * HTTP plumbing shared by our API clients (functions/shared/sailpoint, functions/shared/cognigy).
 * It exists so that timeouts, rate budget, bounded retries, Retry-After, error basics and secret
 * redaction are written once and fixed once; each client keeps its own authentication, retry
 * rules per request, error bodies and messages.
 */
export * from './bodies';
export * from './errors';
export * from './resilient-http';
export * from './safe-text';
export * from './hosts';
export * from './path';
