/**
 * Preloaded into every `bun test` run (bunfig.toml):
 * - every test must run at least one assertion (`expect.hasAssertions()`), so none can pass by
 *   running nothing; Bun does not support that check in `test.concurrent` tests, which are left out;
 * - the harness's temporary directories and the children it started are removed and killed once the
 *   tests are done, since `bun test` never emits the process "exit" event that
 *   tests/harness/cleanup.ts also listens to.
 */
import { afterAll, beforeEach, expect } from "bun:test";
import { cleanUp } from "./cleanup.ts";

beforeEach(() => {
  try {
    expect.hasAssertions();
  } catch {
    // a concurrent test: Bun cannot count its assertions
  }
});

afterAll(cleanUp);
