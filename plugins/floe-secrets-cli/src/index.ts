export * from './io';
export * from './cli';
export * from './commands';
