import { IConstruct } from 'constructs';
import { SYNC_WAVE_ANNOTATION, SyncWave, SyncWaves } from '../sync-waves';

/**
 * The rendered manifests of the domain at `scope`, each annotated with its sync wave when waves are
 * enabled there, its wave is not {@link SyncWave.WORKLOAD}, and it has no wave of its own.
 */
export function withSyncWaves(scope: IConstruct, manifests: any[]): any[] {
  if (!SyncWaves.isEnabled(scope)) return manifests;
  return manifests.map((manifest) => {
    const wave = SyncWaves.waveOf(String(manifest.apiVersion), String(manifest.kind));
    const annotations = manifest.metadata?.annotations ?? {};
    if (wave === SyncWave.WORKLOAD || annotations[SYNC_WAVE_ANNOTATION] !== undefined) return manifest;
    return { ...manifest, metadata: { ...manifest.metadata, annotations: { ...annotations, [SYNC_WAVE_ANNOTATION]: String(wave) } } };
  });
}
