import { ManifestDocument } from '../manifests';
import { diffSnapshots } from './diff';
import { Plan } from './model';
import { snapshotOf } from './snapshot';

/** One side as read: the paths given, the files read and their Kubernetes objects. */
export interface PlanInput {
  readonly paths: readonly string[];
  readonly files: readonly string[];
  readonly documents: readonly ManifestDocument[];
}

/**
 * What changes in access from `base` to `head`: the access model of each (the access map, the
 * sources, their refresh and rotation) and the differences. Reads names, keys and metadata, never
 * a value.
 */
export function computePlan(base: PlanInput, head: PlanInput): Plan {
  const before = snapshotOf(base.documents);
  const after = snapshotOf(head.documents);
  const changes = diffSnapshots(before, after);
  return {
    base: { paths: [...base.paths], files: base.files.length, objects: before.objects },
    head: { paths: [...head.paths], files: head.files.length, objects: after.objects },
    broadens: changes.some((c) => c.broadens),
    changes,
    warnings: [...before.warnings.map((w) => `base: ${w}`), ...after.warnings.map((w) => `head: ${w}`)],
  };
}
