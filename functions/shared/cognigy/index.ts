export * from './client';
export * from './errors';
export * from './api/acl';
export * from './api/api-keys';
export * from './from-settings';
