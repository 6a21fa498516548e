/**
 * Expands a leading `~` (alone, or followed by `/`) to the home directory `env.HOME`, as a shell
 * does for an unquoted path and as kubectl does for `--kubeconfig`: `--kubeconfig=~/.kube/config`
 * (no shell expands a `~` after `=`) and `kubeconfig: ~/.kube/config` in cdk8s.yaml then name the
 * file meant. `~user` is left as it is, and so is any path when HOME is not set.
 */
export function expandHome(path: string, env: { readonly [name: string]: string | undefined }): string;
export function expandHome(path: string | undefined, env: { readonly [name: string]: string | undefined }): string | undefined;
export function expandHome(path: string | undefined, env: { readonly [name: string]: string | undefined }): string | undefined {
  if (path === undefined || (path !== '~' && !path.startsWith('~/'))) return path;
  const home = env.HOME;
  if (home === undefined || home === '') return path;
  return path === '~' ? home : `${home.endsWith('/') ? home.slice(0, -1) : home}${path.slice(1)}`;
}
