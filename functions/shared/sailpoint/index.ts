/** Public surface of the shared SailPoint client. */
export * from './errors';
export {
  DEFAULT_RETRY,
  DEFAULT_TIMEOUT_MS,
  SailPointClient,
  buildQuery,
  resolveSailPointApiUrl,
  type ApiRequest,
  type HttpMethod,
  type SailPointClientOptions,
  type SailPointClientStats,
  type SailPointLogger,
  type SailPointRetryOptions,
  type SailPointTransport,
  type TokenInfo,
} from './client';
export { isLoopbackHost } from './api-url';
export * from './api/common';
export * from './api/personal-access-tokens';
export * from './api/search';
export * from './api/access-requests';
export * from './api/reassignment-configurations';
export * from './api/trigger-subscriptions';
export * from './from-settings';
export * from './ids';
export * from './rights';
