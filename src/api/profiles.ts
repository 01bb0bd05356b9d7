import type { Profile } from "./types.js";

export const PROFILES: readonly Profile[] = ["vm-run", "workspace-core", "workspace-full"];
export const DEFAULT_PROFILE: Profile = "workspace-core";
