/**
 * Crash safety: skiff is killed with SIGKILL at 20 points spread over the run of each command
 * (push to a layout, pull from a layout, cp layout to layout, index create in a layout). After each
 * kill: the layout opens (or is cleanly "not a layout yet"), index.json parses and lists only
 * complete manifests, every blob under blobs/ matches its digest, output files are whole or absent,
 * and a rerun completes.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkLayout, listTree } from "../fixtures/hostile/checks.ts";
import { KillPoints, killAfter, measureRun } from "../harness/kill.ts";
import { runSkiff } from "../harness/skiff.ts";

const POINTS = 20;
let root: string;
let files: string;
const contents = new Map<string, Buffer>();

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "skiff-crash-"));
  files = join(root, "files");
  mkdirSync(join(files, "tree", "sub"), { recursive: true });
  // Small content, enough blobs that the kill points land in different phases.
  for (let i = 0; i < 6; i++) {
    const bytes = Buffer.alloc(384 * 1024, `file ${i} `);
    writeFileSync(join(files, `f${i}.bin`), bytes);
    contents.set(`f${i}.bin`, bytes);
  }
  writeFileSync(join(files, "tree", "a.txt"), "a\n");
  writeFileSync(join(files, "tree", "sub", "b.txt"), "b\n");
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

const FILE_ARGS = ["f0.bin", "f1.bin", "f2.bin", "f3.bin", "f4.bin", "f5.bin", "tree"];

/** skiff runs with a fixed SOURCE_DATE_EPOCH (in `cwd` when given). */
const runOptions = (cwd?: string) => ({ ...(cwd ? { cwd } : {}), env: { SOURCE_DATE_EPOCH: "1700000000" } });

async function timed(args: string[], cwd?: string): Promise<number> {
  const started = performance.now();
  const result = await runSkiff(args, runOptions(cwd));
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: "" });
  return performance.now() - started;
}

/**
 * What must hold in a layout after a kill: absent, or not yet a layout (no oci-layout file; a
 * reader says so cleanly), or a whole layout whose index.json lists only complete graphs.
 */
async function checkAfterKill(layout: string, tag: string, label: string): Promise<void> {
  if (!existsSync(layout)) return;
  if (existsSync(join(layout, "oci-layout"))) {
    const report = checkLayout(layout);
    expect({ label, problems: report.problems }).toEqual({ label, problems: [] });
    // Temporary files may survive a SIGKILL, but never under a digest name (checked above) or as index.json.
    for (const stray of report.strays) expect(stray).toMatch(/\.tmp$|\.partial$|^blobs\/sha256\/\./);
  }
  // The layout opens: skiff resolves the tag or says clearly why not (missing tag, not a layout yet).
  const opened = await runSkiff(["resolve", "--oci-layout", `${layout}:${tag}`]);
  if (opened.code !== 0) {
    expect({ label, stderr: opened.stderr }).toEqual({ label, stderr: expect.stringMatching(/^Error: /) });
    expect(opened.stderr).not.toMatch(/TypeError|SyntaxError|Unexpected end of JSON|\n\s+at /);
  } else {
    expect(opened.stdout).toMatch(/sha256:[0-9a-f]{64}/);
  }
}

function expectWholeLayout(layout: string, tag: string, label: string): void {
  const report = checkLayout(layout);
  expect({ label, problems: report.problems }).toEqual({ label, problems: [] });
  expect(report.entries.map((e) => e.refName)).toContain(tag);
}

// The five kill loops use their own folders and run side by side (each one's kill points follow
// the runs it sees, see KillPoints).
describe.concurrent("kill -9 during writes to a layout", () => {
  test(`push to a layout: ${POINTS} kill points, then a rerun`, async () => {
    const layout = join(root, "push-layout");
    const args = ["push", "--oci-layout", `${layout}:v1`, ...FILE_ARGS];
    const tally = new KillPoints(
      "push",
      await measureRun(args, () => rmSync(layout, { recursive: true, force: true }), runOptions(files)),
      POINTS,
    );
    for (const [k, ms] of tally) {
      rmSync(layout, { recursive: true, force: true });
      tally.add(await killAfter(args, ms, runOptions(files)));
      await checkAfterKill(layout, "v1", `push kill #${k} at ${ms.toFixed(0)} ms`);
      await timed(args, files);
      expectWholeLayout(layout, "v1", `push rerun after kill #${k}`);
    }
    tally.report();
  }, 240_000);

  test(`push into a layout that already has other content: ${POINTS} kill points keep the old entries`, async () => {
    const base = join(root, "push-base");
    await timed(["push", "--oci-layout", `${base}:old`, "tree"], files);
    const layout = join(root, "push-existing");
    const args = ["push", "--oci-layout", `${layout}:v1`, ...FILE_ARGS];
    const reset = () => {
      rmSync(layout, { recursive: true, force: true });
      cpSync(base, layout, { recursive: true });
    };
    const tally = new KillPoints(
      "push into an existing layout",
      await measureRun(args, reset, runOptions(files)),
      POINTS,
    );
    for (const [k, ms] of tally) {
      reset();
      tally.add(await killAfter(args, ms, runOptions(files)));
      await checkAfterKill(layout, "v1", `push-existing kill #${k}`);
      // The old tag is never lost, whatever the kill interrupted.
      expect(checkLayout(layout).entries.map((e) => e.refName)).toContain("old");
    }
    tally.report();
    await timed(args, files);
    expectWholeLayout(layout, "v1", "push-existing rerun");
  }, 240_000);

  test(`pull from a layout: ${POINTS} kill points leave only whole files, then a rerun`, async () => {
    const source = join(root, "pull-source");
    await timed(["push", "--oci-layout", `${source}:v1`, ...FILE_ARGS], files);
    const sourceIndex = readFileSync(join(source, "index.json"), "utf8");
    const out = join(root, "pull-out");
    const args = ["pull", "--oci-layout", `${source}:v1`, "-o", out];
    const tally = new KillPoints(
      "pull",
      await measureRun(args, () => rmSync(out, { recursive: true, force: true }), runOptions()),
      POINTS,
    );
    for (const [k, ms] of tally) {
      rmSync(out, { recursive: true, force: true });
      tally.add(await killAfter(args, ms, runOptions()));
      // Every file under a final name is complete; temporaries are hidden (dot) names.
      for (const name of existsSync(out) ? readdirSync(out) : []) {
        if (name.startsWith(".")) continue;
        if (name === "tree") {
          expect(readFileSync(join(out, "tree", "sub", "b.txt"), "utf8")).toBe("b\n");
          continue;
        }
        const want = contents.get(name);
        expect({ k, name, known: want !== undefined }).toEqual({ k, name, known: true });
        expect({ k, name, whole: Buffer.compare(readFileSync(join(out, name)), want!) === 0 }).toEqual({
          k,
          name,
          whole: true,
        });
      }
      await timed(args);
      const names = listTree(out).filter((p) => !p.split("/").some((part) => part.startsWith(".")));
      expect(names).toEqual(
        [...[...contents.keys()].sort(), "tree/", "tree/a.txt", "tree/sub/", "tree/sub/b.txt"].sort(),
      );
    }
    tally.report();
    // A pull never writes to its source.
    expect(readFileSync(join(source, "index.json"), "utf8")).toBe(sourceIndex);
    expect(checkLayout(source).strays).toEqual([]);
  }, 240_000);

  test(`cp layout to layout: ${POINTS} kill points, then a rerun`, async () => {
    const source = join(root, "cp-source");
    await timed(["push", "--oci-layout", `${source}:v1`, ...FILE_ARGS], files);
    const dest = join(root, "cp-dest");
    const args = ["cp", "--from-oci-layout", `${source}:v1`, "--to-oci-layout", `${dest}:copied`];
    const tally = new KillPoints(
      "cp",
      await measureRun(args, () => rmSync(dest, { recursive: true, force: true }), runOptions()),
      POINTS,
    );
    for (const [k, ms] of tally) {
      rmSync(dest, { recursive: true, force: true });
      tally.add(await killAfter(args, ms, runOptions()));
      await checkAfterKill(dest, "copied", `cp kill #${k} at ${ms.toFixed(0)} ms`);
      await timed(args);
      expectWholeLayout(dest, "copied", `cp rerun after kill #${k}`);
    }
    tally.report();
  }, 240_000);

  test(`index create in a layout: ${POINTS} kill points, then a rerun`, async () => {
    const base = join(root, "index-base");
    await timed(
      ["push", "--oci-layout", `${base}:amd`, "--artifact-platform", "linux/amd64", "f0.bin", "f1.bin"],
      files,
    );
    await timed(
      ["push", "--oci-layout", `${base}:arm`, "--artifact-platform", "linux/arm64", "f2.bin", "f3.bin"],
      files,
    );
    const layout = join(root, "index-layout");
    const args = ["index", "create", `oci-layout://${layout}:multi`, "amd", "arm"];
    const reset = () => {
      rmSync(layout, { recursive: true, force: true });
      cpSync(base, layout, { recursive: true });
    };
    const tally = new KillPoints("index create", await measureRun(args, reset, runOptions()), POINTS);
    for (const [k, ms] of tally) {
      reset();
      tally.add(await killAfter(args, ms, runOptions()));
      await checkAfterKill(layout, "multi", `index create kill #${k} at ${ms.toFixed(0)} ms`);
      const tags = checkLayout(layout).entries.map((e) => e.refName);
      // The sources stay resolvable (an index create may fold their untagged entries, never tagged ones).
      expect(tags).toContain("amd");
      expect(tags).toContain("arm");
      await timed(args);
      expectWholeLayout(layout, "multi", `index create rerun after kill #${k}`);
    }
    tally.report();
  }, 240_000);
});
