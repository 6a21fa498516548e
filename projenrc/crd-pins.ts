/**
 * The operator CRDs that `npx projen import` (src/imports/) and the integration tests need, pinned by
 * upstream release, URL and sha256. projenrc/crds.ts takes them from FLOE_CRDS_DIR
 * (`<dir>/<operator>/<file>`) or downloads them into a cache outside the repository, and verifies
 * every file against its sha256 either way.
 *
 * Each version is the first release of its repository whose files are byte-identical to the pinned
 * ones. To move to another release: change version and URLs, put the new sha256 (`sha256sum`) here,
 * run `npx projen import` and review the diff of src/imports/.
 */

/** One file of an operator release. */
export interface PinnedFile {
  /** The file name, the same under `<FLOE_CRDS_DIR>/<operator>/` and in the cache. */
  readonly name: string;
  /** Where the file is downloaded from: the release tag's raw file on GitHub. */
  readonly url: string;
  /** The sha256 of the file, in lower-case hex. */
  readonly sha256: string;
}

/** The pinned files of one operator release. */
export interface OperatorRelease {
  /** The operator's folder under FLOE_CRDS_DIR. */
  readonly operator: string;
  /** The release version; the cache folder is `<operator>-<version>`. */
  readonly version: string;
  /** The git tag of that release in `repository`. */
  readonly tag: string;
  readonly repository: string;
  /** The SPDX id of the release's licence, whose text is the pinned `LICENSE`. */
  readonly license: string;
  readonly files: readonly PinnedFile[];
}

export const CRD_RELEASES: readonly OperatorRelease[] = [
  {
    operator: 'external-secrets',
    version: 'v2.9.0',
    tag: 'v2.9.0',
    repository: 'https://github.com/external-secrets/external-secrets',
    license: 'Apache-2.0',
    files: [
      {
        name: 'external-secrets.io_externalsecrets.yaml',
        url: 'https://raw.githubusercontent.com/external-secrets/external-secrets/v2.9.0/config/crds/bases/external-secrets.io_externalsecrets.yaml',
        sha256: '5044be5a610ca90a075f34f03ed20b462695c43387ba9410db7f4250e47b1e2f',
      },
      {
        name: 'external-secrets.io_secretstores.yaml',
        url: 'https://raw.githubusercontent.com/external-secrets/external-secrets/v2.9.0/config/crds/bases/external-secrets.io_secretstores.yaml',
        sha256: '7f750858d393913915a2f15daff9e1d2f56ca207c09920c055d7a68cceacb641',
      },
      {
        name: 'LICENSE',
        url: 'https://raw.githubusercontent.com/external-secrets/external-secrets/v2.9.0/LICENSE',
        sha256: '58d1e17ffe5109a7ae296caafcadfdbe6a7d176f0bc4ab01e12a689b0499d8bd',
      },
    ],
  },
  {
    // The operator's own repository since it moved out of Infisical/infisical (its tags keep that naming).
    operator: 'infisical',
    version: 'v0.11.2',
    tag: 'infisical-k8-operator/v0.11.2',
    repository: 'https://github.com/Infisical/kubernetes-operator',
    // MIT, with a note that parts carrying their own licence keep it.
    license: 'MIT',
    files: [
      {
        name: 'secrets.infisical.com_infisicalauths.yaml',
        url: 'https://raw.githubusercontent.com/Infisical/kubernetes-operator/infisical-k8-operator/v0.11.2/config/crd/bases/secrets.infisical.com_infisicalauths.yaml',
        sha256: '3b4a1ffb9c90150b6bf2377c5c002652247dc9b7dcc7924575cb0adde9d8093d',
      },
      {
        name: 'secrets.infisical.com_infisicalconnections.yaml',
        url: 'https://raw.githubusercontent.com/Infisical/kubernetes-operator/infisical-k8-operator/v0.11.2/config/crd/bases/secrets.infisical.com_infisicalconnections.yaml',
        sha256: '8d7705c01d239693f4d832bb181ba62549f35b73c956a58f9f88c181f350ed69',
      },
      {
        name: 'secrets.infisical.com_infisicalsecrets.yaml',
        url: 'https://raw.githubusercontent.com/Infisical/kubernetes-operator/infisical-k8-operator/v0.11.2/config/crd/bases/secrets.infisical.com_infisicalsecrets.yaml',
        sha256: '81c0e925f02be4786f6482463905f994dfef8f8783da45e681f1482b7f7203f3',
      },
      {
        name: 'secrets.infisical.com_infisicalstaticsecrets.yaml',
        url: 'https://raw.githubusercontent.com/Infisical/kubernetes-operator/infisical-k8-operator/v0.11.2/config/crd/bases/secrets.infisical.com_infisicalstaticsecrets.yaml',
        sha256: '9577e89f9ed10716bb8ce534ad1ca21e3db444c8d8830868e5c68b5d399a1a12',
      },
      {
        name: 'LICENSE',
        url: 'https://raw.githubusercontent.com/Infisical/kubernetes-operator/infisical-k8-operator/v0.11.2/LICENSE',
        sha256: 'a20dc9b1d1438de90d432a9596783d97f40ba552590d40302fda06ea501ca133',
      },
    ],
  },
];
