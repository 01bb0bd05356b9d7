/**
 * How an environment travels as an OCI artifact (documented in docs/environments.md):
 * an OCI image manifest whose config is the environment's manifest.json and whose layers are
 * the kernel, the initramfs (both as raw files, so their digests are the files' sha256) and the
 * root image as a PAX sparse tar.
 */
export const OCI_MANIFEST_MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json";
export const ENVIRONMENT_ARTIFACT_TYPE = "application/vnd.pyro.environment.v1";
export const ENVIRONMENT_CONFIG_MEDIA_TYPE = "application/vnd.pyro.environment.config.v1+json";
export const KERNEL_MEDIA_TYPE = "application/vnd.pyro.environment.kernel.v1";
export const INITRAMFS_MEDIA_TYPE = "application/vnd.pyro.environment.initramfs.v1";
export const ROOTFS_MEDIA_TYPE = "application/vnd.pyro.environment.rootfs.v1.tar";

/** Layer order in the manifest. */
export const LAYER_ROLES = [
  { role: "kernel", mediaType: KERNEL_MEDIA_TYPE },
  { role: "initramfs", mediaType: INITRAMFS_MEDIA_TYPE },
  { role: "rootfs", mediaType: ROOTFS_MEDIA_TYPE },
] as const;

/** The annotation naming a layer's file, as `oras` and other artifact tools do. */
export const TITLE_ANNOTATION = "org.opencontainers.image.title";
