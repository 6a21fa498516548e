import { CheckContext } from './checks';
import { describe, groupBy, label, pool, reference } from './util';

/** Secrets that no resource of the input creates exist in the cluster and hold every key their workloads read. */
export async function checkClusterSecrets(context: CheckContext): Promise<void> {
  const bySecret = groupBy(context.references.filter((a) => a.secret && a.source?.kind === 'external'), (a) => `${a.namespace}/${a.secret}`);
  context.progress.start('Secrets in the cluster', bySecret.size);
  await pool([...bySecret.entries()], async ([id, uses]) => {
    const [namespace, name] = [uses[0].namespace, uses[0].secret!];
    let keys: Set<string>;
    try {
      keys = await context.reads.clusterKeys(namespace, name);
    } catch (error) {
      context.errors.push(`cluster: could not read Secret ${id}: ${describe(error)}`);
      return;
    } finally {
      context.progress.tick();
    }
    context.checked.add(id);
    for (const use of uses) {
      if (use.notes.includes('optional')) continue;
      if (keys.size === 0) {
        context.problems.push({
          check: 'secret',
          workload: label(use),
          reference: reference(use),
          message: `Secret ${id} does not exist in the cluster (or holds no keys); no resource in the input creates it`,
          fix: `create it: kubectl -n ${namespace} create secret generic ${name}${(use.keys ?? ['KEY']).map((k) => ` --from-file=${k}=...`).join('')}`,
        });
        continue;
      }
      for (const key of use.keys ?? []) {
        if (keys.has(key)) continue;
        context.problems.push({
          check: 'secret',
          workload: label(use),
          reference: reference(use, [key]),
          message: `Secret ${id} has no key ${key} (it has ${[...keys].sort().join(', ')})`,
          fix: `add key ${key} to Secret ${id} (kubectl -n ${namespace} edit secret ${name}), or change the reference to an existing key`,
        });
      }
    }
  });
}
