#!/usr/bin/env node
// The smoke pack: every recipe of smoke/recipes.mjs, end to end against real guests, through
// `pyro mcp serve` driven by the official MCP SDK client, the way a chat host calls it.
//   npm run smoke [-- --only ID]
// Each recipe gets its own folder (the server's working directory, so host paths stay inside it)
// and its own server; all share one temporary PYRO_HOME. A recipe that needs a network policy
// runs inside a private network namespace lab (test/fixtures/netns-lab.mjs): no packet leaves
// the machine. Exit code 1 when any recipe fails.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { canCreateLab, createLab } from "../test/fixtures/netns-lab.mjs";
import { failedChecks, fill, valueAt } from "./checks.mjs";
import { RECIPES } from "./recipes.mjs";

const CLI = fileURLToPath(new URL("../dist/cli.js", import.meta.url));
const log = (line) => process.stdout.write(`${line}\n`);
const brief = (value) => {
  const text = JSON.stringify(value);
  return text.length > 110 ? `${text.slice(0, 107)}...` : text;
};

class StepFailed extends Error {}

function writeFiles(root, recipe) {
  for (const [path, text] of Object.entries(recipe.files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  if (recipe.git) {
    const git = (...args) =>
      execFileSync("git", ["-c", "user.name=pyro", "-c", "user.email=pyro@example.invalid", ...args], {
        cwd: join(root, recipe.git),
        stdio: "ignore",
      });
    git("init", "-q", "-b", "main");
    git("add", ".");
    git("commit", "-q", "-m", "initial import");
  }
}

async function connect(recipe, cwd, prefix) {
  const [command, ...args] = [...prefix, process.execPath, CLI, "mcp", "serve", "--profile", recipe.profile];
  const env = Object.fromEntries(Object.entries(process.env).filter(([, v]) => v !== undefined));
  const transport = new StdioClientTransport({ command, args, cwd, env, stderr: "inherit" });
  const client = new Client({ name: "pyro-smoke", version: "1.0.0" });
  await client.connect(transport);
  return client;
}

async function callTool(client, call, vars, created) {
  const args = fill(call.args, vars);
  const result = await client.callTool({ name: call.tool, arguments: args });
  const content = result.structuredContent ?? {};
  if (result.isError) {
    const text = (result.content ?? []).map((part) => part.text ?? "").join(" ");
    throw new StepFailed(`${call.tool} failed: ${text.slice(0, 400)}`);
  }
  if (call.tool === "workspace_create") created.add(content.workspace_id);
  if (call.tool === "workspace_delete") created.delete(args.workspace_id);
  return check(call, content, vars);
}

function check(step, content, vars) {
  const failures = failedChecks(content, step.expect, vars);
  if (failures.length > 0) throw new StepFailed(failures.join("; "));
  for (const [name, path] of Object.entries(step.save ?? {})) vars[name] = valueAt(content, path);
  return content;
}

/** GET from the host, inside the lab's namespace when there is one. */
function httpGet(url, prefix) {
  const script = `fetch(${JSON.stringify(url)}).then(r => r.text()).then(t => process.stdout.write(t), e => { console.error(String(e)); process.exit(1) })`;
  const [command, ...args] = [...prefix, process.execPath, "-e", script];
  return execFileSync(command, args, { timeout: 15_000 }).toString();
}

function hostStep(step, root, vars, prefix) {
  const args = fill(step.args, vars);
  if (step.host === "http_get") return check(step, { body: httpGet(args.url, prefix) }, vars);
  const dir = join(root, args.dir);
  const patchFile = join(root, ".smoke.patch");
  writeFileSync(patchFile, args.patch);
  execFileSync("git", ["apply", patchFile], { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  return check(step, { content: readFileSync(join(dir, args.file), "utf8") }, vars);
}

async function runRecipe(recipe) {
  const root = mkdtempSync(join("/tmp", `pyro-smoke-${recipe.id.slice(0, 8)}-`));
  const created = new Set();
  let lab = null;
  let client = null;
  try {
    writeFiles(root, recipe);
    if (recipe.network) {
      if (!canCreateLab())
        return { status: "skipped", reason: "needs root and iproute2 for its network lab" };
      lab = await createLab();
    }
    const prefix = lab ? ["ip", "netns", "exec", lab.pyroNs] : [];
    client = await connect(recipe, root, prefix);
    const vars = {};
    for (const [index, step] of recipe.steps.entries()) {
      const started = Date.now();
      const label = `${recipe.id} ${index + 1}/${recipe.steps.length}`;
      const what =
        "parallel" in step
          ? step.parallel.map((c) => c.tool).join(" | ")
          : "host" in step
            ? `(host) ${step.host}`
            : `${step.tool} ${brief(fill(step.args, vars))}`;
      log(`[smoke] ${label} ${what}`);
      if ("parallel" in step)
        await Promise.all(step.parallel.map((call) => callTool(client, call, vars, created)));
      else if ("host" in step) hostStep(step, root, vars, prefix);
      else await callTool(client, step, vars, created);
      log(`[smoke] ${label} ok ${Date.now() - started} ms`);
    }
    return { status: "passed" };
  } catch (error) {
    return {
      status: "failed",
      reason: error instanceof StepFailed ? error.message : String(error?.stack ?? error),
    };
  } finally {
    // A failed recipe leaves no workspace behind.
    for (const id of created)
      await client?.callTool({ name: "workspace_delete", arguments: { workspace_id: id } });
    await client?.close();
    lab?.close();
    rmSync(root, { recursive: true, force: true });
  }
}

async function main() {
  const only = process.argv.indexOf("--only");
  const wanted = only === -1 ? null : process.argv[only + 1];
  const recipes = RECIPES.filter((r) => wanted === null || r.id === wanted);
  if (recipes.length === 0)
    throw new Error(`no recipe ${wanted}; recipes: ${RECIPES.map((r) => r.id).join(", ")}`);
  const home = process.env.PYRO_HOME ? null : mkdtempSync(join("/tmp", "pyro-s-"));
  if (home) process.env.PYRO_HOME = home;
  const outcomes = [];
  const began = Date.now();
  try {
    for (const recipe of recipes) {
      const started = Date.now();
      const outcome = await runRecipe(recipe);
      outcomes.push({ id: recipe.id, ms: Date.now() - started, ...outcome });
      log(
        `[smoke] ${recipe.id} ${outcome.status.toUpperCase()}${outcome.reason ? `: ${outcome.reason}` : ""}`,
      );
    }
  } finally {
    if (home) rmSync(home, { recursive: true, force: true });
  }
  log("\n[smoke] summary");
  for (const o of outcomes) log(`  ${o.status.padEnd(7)} ${o.id.padEnd(26)} ${(o.ms / 1000).toFixed(1)} s`);
  const failed = outcomes.filter((o) => o.status === "failed").length;
  log(
    `[smoke] ${outcomes.length - failed} of ${outcomes.length} recipes did not fail (${outcomes.filter((o) => o.status === "skipped").length} skipped), ${((Date.now() - began) / 1000).toFixed(1)} s`,
  );
  process.exitCode = failed > 0 ? 1 : 0;
}

await main();
