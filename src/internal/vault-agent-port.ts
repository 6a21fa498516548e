/** The port of the Vault Agent sidecar's listener, where `agent-enable-quit` serves `/agent/v1/quit`. */
export const VAULT_AGENT_PORT = 8200;
