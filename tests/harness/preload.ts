/**
 * Preloaded into every `bun test` run (bunfig.toml): removes the harness's temporary directories
 * and kills the children it started once the tests are done, since `bun test` never emits the
 * process "exit" event that tests/harness/cleanup.ts also listens to.
 */
import { afterAll } from "bun:test";
import { cleanUp } from "./cleanup.ts";

afterAll(cleanUp);
