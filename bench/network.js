/**
 * Network figures, measured inside a private namespace pair (test/fixtures/netns-lab.mjs) so no
 * packet leaves the machine: a 100 MB download into the guest through pyro-netstack, with its
 * frame filter and without it, vs the same download on the host side, and an HTTP request through
 * a published port vs one straight to a host server. Needs root (network namespaces); skipped
 * otherwise.
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { canCreateLab, createLab } from "../test/fixtures/netns-lab.mjs";
import { formatMs, report } from "./stats.js";

const INNER = fileURLToPath(new URL("./network-inner.js", import.meta.url));

export async function benchNetwork({ quick }) {
  if (!canCreateLab()) {
    report("Network", [["skipped", "needs root and iproute2 for network namespaces"]]);
    return;
  }
  // The frame filter's cost is measured against a copy built without it (never used by pyro).
  execFileSync("make", ["-s", "-C", fileURLToPath(new URL("../netstack", import.meta.url)), "unfiltered"]);
  const lab = await createLab();
  try {
    const [command, args] = lab.inPyroNamespace(process.execPath, INNER, quick ? "quick" : "full");
    const figures = JSON.parse(
      execFileSync(command, args, { stdio: ["ignore", "pipe", "inherit"] }).toString(),
    );
    const mbps = (bytes, ms) => `${(bytes / 1e6 / (ms / 1000)).toFixed(1)} MB/s`;
    report("Network (egress through pyro-netstack, published ports over the agent channel)", [
      [
        `download ${figures.bytes / 1e6} MB into the guest (median)`,
        `${formatMs(figures.guestDownloadMs)}, ${mbps(figures.bytes, figures.guestDownloadMs)}`,
      ],
      [
        "same download without the frame filter (median)",
        `${formatMs(figures.unfilteredDownloadMs)}, ${mbps(figures.bytes, figures.unfilteredDownloadMs)}`,
      ],
      [
        "frame filter cost (download time filtered / unfiltered)",
        `${(figures.guestDownloadMs / figures.unfilteredDownloadMs).toFixed(3)}x (target <= 1.05x)`,
      ],
      [
        "pyro-netstack CPU per download, filtered / unfiltered (median)",
        `${formatMs(figures.helperCpuMs)} / ${formatMs(figures.unfilteredHelperCpuMs)}`,
      ],
      [
        "same download on the host side (median)",
        `${formatMs(figures.hostDownloadMs)}, ${mbps(figures.bytes, figures.hostDownloadMs)}`,
      ],
      [
        "ratio guest / host download time",
        `${(figures.guestDownloadMs / figures.hostDownloadMs).toFixed(1)}x`,
      ],
      ["HTTP GET through a published port (median)", formatMs(figures.publishedMs)],
      ["HTTP GET to a host server, no VM (median)", formatMs(figures.directMs)],
      ["ratio published / direct", `${(figures.publishedMs / figures.directMs).toFixed(1)}x`],
      [
        `read ${figures.publishedBytes / 2 ** 20} MiB from a guest service through a published port (median)`,
        `${formatMs(figures.publishedBulkMs)}, ${mbps(figures.publishedBytes, figures.publishedBulkMs)}`,
      ],
      [
        "ratio published-port MB/s / guest egress MB/s",
        `${(figures.publishedBytes / figures.publishedBulkMs / (figures.bytes / figures.guestDownloadMs)).toFixed(2)}x`,
      ],
    ]);
  } finally {
    lab.close();
  }
}
