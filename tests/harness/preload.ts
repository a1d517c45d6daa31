/**
 * Preloaded into every `bun test` run (bunfig.toml):
 * - every test must run at least one assertion (`expect.hasAssertions()`), so none can pass by
 *   running nothing; Bun does not support that check in `test.concurrent` tests, which are left out;
 * - a test may take 60 s unless it says otherwise: an e2e test starts several subprocesses, and on
 *   a busy machine running four files at a time Bun's 5 s default failed healthy tests (a hang
 *   still fails, and every skiff run is killed after 60 s by tests/harness/skiff.ts);
 * - the harness's temporary directories and the children it started are removed and killed once the
 *   tests are done, since `bun test` never emits the process "exit" event that
 *   tests/harness/cleanup.ts also listens to.
 */
import { afterAll, beforeEach, expect, setDefaultTimeout } from "bun:test";
import { cleanUp } from "./cleanup.ts";

setDefaultTimeout(60_000);

beforeEach(() => {
  try {
    expect.hasAssertions();
  } catch {
    // a concurrent test: Bun cannot count its assertions
  }
});

afterAll(cleanUp);
