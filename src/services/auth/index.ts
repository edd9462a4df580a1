export * from './keys.js';
export * from './rate-limit.js';
