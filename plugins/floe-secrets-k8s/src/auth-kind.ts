/** The kind of credential a kubeconfig user has; printed instead of the credential. */
export type AuthKind = 'bearer token' | 'client certificate' | 'basic' | 'exec plugin' | 'auth provider' | 'token file' | 'none';
