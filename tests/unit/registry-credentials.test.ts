import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import process from "node:process";
import {
  credentialKey,
  credentialsFromConfigs,
  decodeAuthEntry,
  defaultConfigPath,
  eraseCredential,
  findAuthEntry,
  helperFor,
  helperGet,
  normalizeAuthKey,
  parseConfig,
  storeCredential,
} from "../../src/content/registry/credentials.ts";
import { SkiffError } from "../../src/errors.ts";

const root = mkdtempSync(join(tmpdir(), "skiff-cred-unit-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dir: string;
let n = 0;
beforeEach(() => {
  dir = join(root, String(n++));
  mkdirSync(dir, { recursive: true });
});

const b64 = (text: string) => Buffer.from(text).toString("base64");

function failure(fn: () => unknown): SkiffError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(SkiffError);
    return error as SkiffError;
  }
  throw new Error("expected a SkiffError");
}

describe("docker config lookup", () => {
  test("the default path follows DOCKER_CONFIG, else HOME/.docker", () => {
    expect(defaultConfigPath({ DOCKER_CONFIG: "/x/cfg", HOME: "/home/u" })).toBe("/x/cfg/config.json");
    expect(defaultConfigPath({ HOME: "/home/u" })).toBe("/home/u/.docker/config.json");
  });

  test("keys: Docker Hub's legacy key, scheme and path stripped", () => {
    expect(credentialKey("docker.io")).toBe("https://index.docker.io/v1/");
    expect(credentialKey("localhost:5000")).toBe("localhost:5000");
    expect(normalizeAuthKey("https://Reg.Example:443/v1/")).toBe("reg.example:443");
    const config = parseConfig(
      JSON.stringify({ auths: { "https://reg.example/v2/": { auth: b64("u:p") } } }),
      "c",
    );
    expect(findAuthEntry(config, "reg.example")?.key).toBe("https://reg.example/v2/");
    expect(findAuthEntry(config, "reg.example:5000")).toBeUndefined();
  });

  test("auths entries: base64 auth (password may hold colons), username/password, identitytoken", () => {
    expect(decodeAuthEntry({ auth: b64("me:pa:ss") }, "f", "r")).toEqual({
      username: "me",
      password: "pa:ss",
      source: "f",
    });
    expect(decodeAuthEntry({ username: "me", password: "pw" }, "f", "r")).toEqual({
      username: "me",
      password: "pw",
      source: "f",
    });
    expect(decodeAuthEntry({ identitytoken: "tok" }, "f", "r")).toEqual({
      identityToken: "tok",
      source: "f",
    });
    expect(decodeAuthEntry({}, "f", "r")).toBeUndefined();
    const error = failure(() => decodeAuthEntry({ auth: b64("no-colon") }, "/c.json", "r.example"));
    expect(error.message).toContain('"auth" value for r.example in /c.json');
  });

  test("helpers: credHelpers for the host wins over credsStore", () => {
    const config = parseConfig(
      JSON.stringify({ credsStore: "desktop", credHelpers: { "reg.example": "ecr" } }),
      "c",
    );
    expect(helperFor(config, "reg.example")).toBe("ecr");
    expect(helperFor(config, "other.example")).toBe("desktop");
    expect(helperFor(parseConfig("{}", "c"), "x")).toBeUndefined();
  });

  test("broken files are errors naming the file; a missing file is empty", () => {
    const path = join(dir, "config.json");
    writeFileSync(path, "{not json");
    expect(failure(() => credentialsFromConfigs([path], "r")).message).toContain(path);
    writeFileSync(path, "[]");
    expect(failure(() => credentialsFromConfigs([path], "r")).message).toContain("must be a JSON object");
    expect(credentialsFromConfigs([join(dir, "absent.json")], "r")).toBeUndefined();
  });

  test("several config files: the first with credentials for the host wins", () => {
    const a = join(dir, "a.json");
    const b = join(dir, "b.json");
    writeFileSync(a, JSON.stringify({ auths: { other: { auth: b64("x:y") } } }));
    writeFileSync(b, JSON.stringify({ auths: { "reg.example": { auth: b64("u:p") } } }));
    expect(credentialsFromConfigs([a, b], "reg.example")).toEqual({
      username: "u",
      password: "p",
      source: b,
    });
  });
});

describe("login and logout writes", () => {
  test("stores base64 auth, keeps the rest of the file, mode 0600, no temp file left", () => {
    const path = join(dir, "docker", "config.json");
    mkdirSync(join(dir, "docker"));
    writeFileSync(
      path,
      JSON.stringify({ auths: { "keep.example": { auth: b64("k:k") } }, psFormat: "table" }),
    );
    chmodSync(path, 0o644);
    expect(
      storeCredential(path, "reg.example:5000", { username: "me", password: "s3cret", source: "t" }),
    ).toEqual({
      kind: "file",
      path,
    });
    const json = JSON.parse(readFileSync(path, "utf8"));
    expect(json.psFormat).toBe("table");
    expect(json.auths["keep.example"]).toEqual({ auth: b64("k:k") });
    expect(json.auths["reg.example:5000"]).toEqual({ auth: b64("me:s3cret") });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(dir, "docker"))).toEqual(["config.json"]);
    expect(credentialsFromConfigs([path], "reg.example:5000")).toMatchObject({
      username: "me",
      password: "s3cret",
    });
  });

  test("creates the directory and file; identity tokens are stored as identitytoken", () => {
    const path = join(dir, "new", "sub", "config.json");
    storeCredential(path, "reg.example", { identityToken: "refresh-me", source: "t" });
    expect(JSON.parse(readFileSync(path, "utf8")).auths["reg.example"]).toEqual({
      identitytoken: "refresh-me",
    });
    expect(credentialsFromConfigs([path], "reg.example")).toEqual({
      identityToken: "refresh-me",
      source: path,
    });
  });

  test("logout removes every key of the host, and says when there was none", () => {
    const path = join(dir, "config.json");
    writeFileSync(
      path,
      JSON.stringify({
        auths: {
          "https://reg.example/v1/": { auth: b64("a:b") },
          "reg.example": { auth: b64("a:b") },
          other: {},
        },
      }),
    );
    expect(eraseCredential(path, "reg.example")).toBe(true);
    expect(Object.keys(JSON.parse(readFileSync(path, "utf8")).auths)).toEqual(["other"]);
    expect(eraseCredential(path, "reg.example")).toBe(false);
    expect(eraseCredential(join(dir, "none.json"), "reg.example")).toBe(false);
    expect(existsSync(join(dir, "none.json"))).toBe(false);
  });
});

describe("credential helpers", () => {
  const fixtures = resolve(import.meta.dir, "..", "fixtures");
  const savedPath = process.env.PATH;
  const withHelper = <T>(fn: (store: string) => T, fail = false): T => {
    const store = join(dir, "helper-store");
    process.env.PATH = `${fixtures}:${savedPath}`;
    process.env.SKIFF_TEST_CREDENTIALS = store;
    if (fail) process.env.SKIFF_TEST_HELPER_FAIL = "1";
    try {
      return fn(store);
    } finally {
      process.env.PATH = savedPath;
      delete process.env.SKIFF_TEST_CREDENTIALS;
      delete process.env.SKIFF_TEST_HELPER_FAIL;
    }
  };

  test("store, get and erase through docker-credential-test named by credsStore", () => {
    const path = join(dir, "config.json");
    writeFileSync(path, JSON.stringify({ credsStore: "test" }));
    withHelper((store) => {
      expect(helperGet("test", "reg.example")).toBeUndefined();
      expect(storeCredential(path, "reg.example", { username: "me", password: "pw", source: "t" })).toEqual({
        kind: "helper",
        program: "docker-credential-test",
      });
      // The secret went to the helper, not to the file.
      expect(readFileSync(path, "utf8")).not.toContain("pw");
      expect(credentialsFromConfigs([path], "reg.example")).toEqual({
        username: "me",
        password: "pw",
        source: "docker-credential-test",
      });
      storeCredential(path, "tok.example", { identityToken: "rt", source: "t" });
      expect(credentialsFromConfigs([path], "tok.example")).toEqual({
        identityToken: "rt",
        source: "docker-credential-test",
      });
      expect(eraseCredential(path, "reg.example")).toBe(true);
      expect(credentialsFromConfigs([path], "reg.example")).toBeUndefined();
      expect(readFileSync(join(store, "calls.log"), "utf8")).toContain("erase reg.example");
    });
  });

  test("a missing helper is an error naming it", () => {
    const path = join(dir, "config.json");
    writeFileSync(path, JSON.stringify({ credHelpers: { "reg.example": "nonexistent-xyz" } }));
    const error = failure(() => credentialsFromConfigs([path], "reg.example"));
    expect(error.code).toBe("CREDENTIALS");
    expect(error.message).toBe("credential helper docker-credential-nonexistent-xyz not found in PATH");
    expect(error.hint).toContain("nonexistent-xyz");
  });

  test("a failing helper is an error naming it, with its message", () => {
    const path = join(dir, "config.json");
    writeFileSync(path, JSON.stringify({ credsStore: "test" }));
    withHelper(() => {
      const error = failure(() => credentialsFromConfigs([path], "reg.example"));
      expect(error.message).toBe(
        "credential helper docker-credential-test failed for reg.example (exit 3): the test keychain is locked",
      );
    }, true);
  });
});
