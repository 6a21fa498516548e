export * from './config';
export * from './plugin';
