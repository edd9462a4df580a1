export * from './events.js';
export * from './billing.js';
export * from './ml.js';
export * from './scores.js';
export * from './retention.js';
export * from './alerts.js';
export * from './auth.js';
