import { PyroError } from "../../errors/index.js";

/** A registry reference split the way docker does: `docker.io/library/debian:12`. */
export interface ImageReference {
  registry: string;
  repository: string;
  tag: string | null;
  digest: string | null;
}

export const DOCKER_HUB = "docker.io";
const HOST =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:.]+\])(?::[0-9]{1,5})?$/;
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
export const DIGEST = /^sha256:[0-9a-f]{64}$/;
const MAX_REFERENCE = 512;

/**
 * Parses `[REGISTRY/]REPOSITORY[:TAG][@DIGEST]`. The first component is a registry when it has a
 * dot or a port or is `localhost`; otherwise the image is on Docker Hub, where a one-component
 * name lives under `library/`. No tag and no digest means `latest`.
 */
export function parseReference(text: string): ImageReference {
  const invalid = (why: string): PyroError =>
    new PyroError("INVALID_ARGUMENT", `"${text.slice(0, 200)}" is not an image reference: ${why}.`, {
      hint: "Use REGISTRY/REPOSITORY[:TAG][@sha256:DIGEST], e.g. 127.0.0.1:5000/pyro/debian:12 or docker.io/library/alpine:3.20.",
      details: { reference: text.slice(0, 200) },
    });
  if (text.length === 0 || text.length > MAX_REFERENCE) throw invalid("empty or too long");
  let rest = text;
  let digest: string | null = null;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw invalid("the digest must be sha256: and 64 lowercase hex digits");
  }
  let tag: string | null = null;
  const colon = rest.lastIndexOf(":");
  if (colon > rest.lastIndexOf("/")) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw invalid(`"${tag}" is not a valid tag`);
  }
  const parts = rest.split("/");
  let registry = DOCKER_HUB;
  const first = parts[0] ?? "";
  if (parts.length > 1 && (first.includes(".") || first.includes(":") || first === "localhost")) {
    registry = first;
    parts.shift();
    if (!HOST.test(registry)) throw invalid(`"${registry}" is not a registry host`);
  }
  if (registry === "index.docker.io" || registry === "registry-1.docker.io") registry = DOCKER_HUB;
  if (registry === DOCKER_HUB && parts.length === 1) parts.unshift("library");
  if (parts.length === 0 || !parts.every((part) => PATH_COMPONENT.test(part))) {
    throw invalid("repository names are lowercase letters, digits and separators (. _ -) between '/'");
  }
  const repository = parts.join("/");
  if (repository.length > 255) throw invalid("the repository name is longer than 255 characters");
  if (tag === null && digest === null) tag = "latest";
  return { registry, repository, tag, digest };
}

export function formatReference(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}${ref.tag === null ? "" : `:${ref.tag}`}${ref.digest === null ? "" : `@${ref.digest}`}`;
}

/** Throws INVALID_ARGUMENT unless `repository` is a valid repository path (it is put into URLs). */
export function checkRepository(repository: string): string {
  if (repository.length > 255 || !repository.split("/").every((part) => PATH_COMPONENT.test(part))) {
    throw new PyroError("INVALID_ARGUMENT", `"${repository.slice(0, 100)}" is not a repository name.`);
  }
  return repository;
}

/** Throws INVALID_ARGUMENT unless `reference` is a tag or a sha256 digest. */
export function checkTagOrDigest(reference: string): string {
  if (!TAG.test(reference) && !DIGEST.test(reference)) {
    throw new PyroError(
      "INVALID_ARGUMENT",
      `"${reference.slice(0, 100)}" is neither a tag nor a sha256 digest.`,
    );
  }
  return reference;
}
