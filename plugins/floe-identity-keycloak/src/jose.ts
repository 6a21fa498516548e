import type * as Jose from 'jose';

// jose 6 is ESM-only. Node 20.19+ loads ESM through require(). Taking Node's own require from
// process.getBuiltinModule (rather than the module-scoped one, which test runners and bundlers
// replace with loaders that cannot load ESM) keeps this package CommonJS, as the k8s plugin does
// for @kubernetes/client-node.
const nodeModule = process.getBuiltinModule('node:module') as typeof import('node:module');

/** The jose library (JOSE: JWT, JWS, JWK), loaded once. */
export const jose = nodeModule.createRequire(__filename)('jose') as typeof Jose;
