import { k8s } from 'cdk8s-plus-28';
import { IConstruct } from 'constructs';
import type { IFloeSecret } from '../floe-secret';
import { checkMountPath, overlaps, secretEnvFromSpec, secretMountsSpec, secretVolumeName } from '../pod-spec';
import type { SecretReference } from '../secret-reference';
import type { SecretReads } from './secret-reads';
import { constructError, quote, rethrowAt } from './validation';

/**
 * The env vars, envFrom sources, volumes and mounts of one container and its pod, with the checks
 * that keep them unambiguous: every env var name set once (envFrom keys included), no two mounts
 * in one directory tree. Errors name `owner`'s path.
 */
export class SecretPodWiring {
  private readonly envSources = new Map<string, string>();
  private readonly env: k8s.EnvVar[] = [];
  private readonly envFrom: k8s.EnvFromSource[] = [];
  private readonly volumes: k8s.Volume[] = [];
  private readonly volumeMounts: k8s.VolumeMount[] = [];
  private readonly reservedMounts: string[] = [];
  private secretVolumes = 0;

  public constructor(private readonly owner: IConstruct) {}

  /**
   * Runs `change` (several additions) all or nothing: when it throws, the wiring is as before, so
   * that a failed call leaves no volume, mount or env var of it behind.
   */
  public atomically<T>(change: () => T): T {
    const saved = {
      envSources: new Map(this.envSources),
      lengths: [this.env.length, this.envFrom.length, this.volumes.length, this.volumeMounts.length, this.reservedMounts.length],
      secretVolumes: this.secretVolumes,
    };
    try {
      return change();
    } catch (error) {
      this.envSources.clear();
      for (const [name, source] of saved.envSources) this.envSources.set(name, source);
      [this.env, this.envFrom, this.volumes, this.volumeMounts, this.reservedMounts].forEach((list, i) => list.splice(saved.lengths[i]));
      this.secretVolumes = saved.secretVolumes;
      throw error;
    }
  }

  /** Sets a plain env var. */
  public addEnv(name: string, value: string, source: string): void {
    this.claimEnv(name, source);
    this.env.push({ name, value });
  }

  /** Sets env var `name` (a C identifier: {@link SecretReads.checkSecretEnv}) from one Secret key through `secretKeyRef`. */
  public addSecretEnv(name: string, reference: SecretReference): void {
    this.claimEnv(name, `secret key ${reference}`);
    this.env.push(reference.toEnvVar(name));
  }

  /** Sets every key of `secret` (valid env var names: {@link SecretReads.checkEnvFrom}) as an env var through `envFrom`. */
  public addEnvFrom(secret: IFloeSecret): void {
    for (const key of secret.keys) this.claimEnv(key, `envFrom secret ${quote(secret.secretName)}`);
    this.envFrom.push(...secretEnvFromSpec(secret.secretName).envFrom);
  }

  /** Mounts a Secret read-only as files in `mountPath`. */
  public addSecretVolume(secretName: string, options: { keys?: string[]; mountPath: string; mode: number }): void {
    this.checkMount(options.mountPath);
    let volumeName = secretVolumeName(secretName);
    if (this.volumes.some((v) => v.name === volumeName)) volumeName = `${volumeName.slice(0, 58)}-${this.volumes.length}`;
    const spec = rethrowAt(this.owner, () => secretMountsSpec(secretName, { ...options, volumeName }));
    this.volumes.push(...spec.volumes);
    this.volumeMounts.push(...spec.volumeMounts);
    this.secretVolumes++;
  }

  /** Mounts a new, writable emptyDir named `volumeName` in `mountPath`. */
  public addEmptyDir(volumeName: string, mountPath: string): void {
    this.addVolume({ name: volumeName, emptyDir: {} }, { name: volumeName, mountPath });
  }

  /** Adds a volume of the caller's and mounts it; its name and mount path must be free. */
  public addVolume(volume: k8s.Volume, mount: k8s.VolumeMount): void {
    this.checkMount(mount.mountPath);
    if (this.volumes.some((v) => v.name === volume.name)) {
      throw constructError(this.owner, `volume name ${quote(volume.name)} is already used by this workload`, 'give the volume another name');
    }
    this.volumes.push(volume);
    this.volumeMounts.push(mount);
  }

  /** Whether a writable volume is mounted exactly at `mountPath`. */
  public hasWritableMount(mountPath: string): boolean {
    return this.volumeMounts.some((m) => m.mountPath === mountPath && !m.readOnly);
  }

  /** Mounts a ConfigMap read-only in `mountPath`. */
  public addConfigMapVolume(volumeName: string, configMapName: string, mountPath: string): void {
    this.addVolume({ name: volumeName, configMap: { name: configMapName } }, { name: volumeName, mountPath, readOnly: true });
  }

  /** Reserves a directory that something else (an injector) mounts, so no volume overlaps it. */
  public reserveMount(mountPath: string): void {
    if (this.reservedMounts.includes(mountPath)) return;
    this.checkMount(mountPath);
    this.reservedMounts.push(mountPath);
  }

  /**
   * Claims env var names that something other than the container spec sets (a wrapped command
   * exporting an env file), so that they clash with the spec's own like any other; all or none.
   *
   * @throws when a name is already set
   */
  public reserveEnv(names: readonly string[], source: string): void {
    const taken = names.find((name) => this.envSources.has(name));
    if (taken !== undefined) this.claimEnv(taken, source); // throws, naming both
    for (const name of names) this.claimEnv(name, source);
  }

  /** Whether env var `name` is set (by env, secretKeyRef, a declared envFrom key or {@link reserveEnv}). */
  public hasEnv(name: string): boolean {
    return this.envSources.has(name);
  }

  /** Every env var name set, sorted. */
  public get envVarNames(): string[] {
    return [...this.envSources.keys()].sort();
  }

  /** Whether any Secret is mounted as files (by {@link addSecretVolume}). */
  public get mountsSecrets(): boolean {
    return this.secretVolumes > 0;
  }

  /** The container's env, envFrom and volumeMounts, each left out when empty. */
  public renderContainer(): Pick<k8s.Container, 'env' | 'envFrom' | 'volumeMounts'> {
    return { env: nonEmpty(this.env), envFrom: nonEmpty(this.envFrom), volumeMounts: nonEmpty(this.volumeMounts) };
  }

  /** The pod's volumes, or undefined when there are none. */
  public renderVolumes(): k8s.Volume[] | undefined {
    return nonEmpty(this.volumes);
  }

  private claimEnv(name: string, source: string): void {
    const previous = this.envSources.get(name);
    if (previous !== undefined) {
      throw constructError(this.owner, `env var ${quote(name)} is set by both ${previous} and ${source}`, 'give one of them another env var name');
    }
    this.envSources.set(name, source);
  }

  private checkMount(mountPath: string): void {
    rethrowAt(this.owner, () => checkMountPath('mountPath', mountPath));
    const clash = [...this.volumeMounts.map((m) => m.mountPath), ...this.reservedMounts].find((path) => overlaps(path, mountPath));
    if (clash) {
      throw constructError(this.owner, `mount path ${quote(mountPath)} overlaps mount ${quote(clash)}`, 'give each mount its own directory');
    }
  }
}

function nonEmpty<T>(items: T[]): T[] | undefined {
  return items.length > 0 ? [...items] : undefined;
}
