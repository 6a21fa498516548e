export * from './io';
export * from './cli';
export * from './command';
export * from './commands';
export * from './cdk8s-validation';
