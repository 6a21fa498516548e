export * from './rules';
export * from './scanner';
export * from './files';
