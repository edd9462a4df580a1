export * from './events.js';
export * from './billing.js';
