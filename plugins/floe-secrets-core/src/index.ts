export * from './errors';
export * from './masked';
export * from './keys';
export * from './resilience';
export * from './audit';
export * from './config';
export * from './plugin';
export * from './discovery';
