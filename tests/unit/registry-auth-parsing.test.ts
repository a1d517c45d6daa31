import { describe, expect, test } from "bun:test";
import { parseTokenResponse, tokenUrl } from "../../src/content/registry/auth.ts";
import {
  CATALOG_SCOPE,
  formatScope,
  mergeScopes,
  parseChallenges,
  parseScope,
  repositoryScope,
  scopesCover,
} from "../../src/content/registry/challenge.ts";

describe("WWW-Authenticate parsing", () => {
  test("a distribution bearer challenge with realm, service and scope", () => {
    const [challenge, ...rest] = parseChallenges(
      'Bearer realm="https://auth.example/token",service="registry.example",scope="repository:team/app:pull,push"',
    );
    expect(rest).toEqual([]);
    expect(challenge).toEqual({
      scheme: "bearer",
      params: {
        realm: "https://auth.example/token",
        service: "registry.example",
        scope: "repository:team/app:pull,push",
      },
    });
  });

  test("scheme and parameter names are case-insensitive; values keep their case", () => {
    const [challenge] = parseChallenges('BEARER Realm="https://A.example/Token", Service=Reg');
    expect(challenge!.scheme).toBe("bearer");
    expect(challenge!.params).toEqual({ realm: "https://A.example/Token", service: "Reg" });
  });

  test("several challenges in one header, with spaces and a token68", () => {
    const challenges = parseChallenges(
      'Basic realm="basic-realm", Negotiate abc==, Bearer realm="x",error="insufficient_scope"',
    );
    expect(challenges.map((c) => c.scheme)).toEqual(["basic", "negotiate", "bearer"]);
    expect(challenges[0]!.params.realm).toBe("basic-realm");
    expect(challenges[1]!.params.token68).toBe("abc==");
    expect(challenges[2]!.params.error).toBe("insufficient_scope");
  });

  test("escaped quotes and commas inside quoted values", () => {
    const [challenge] = parseChallenges(
      'Bearer realm="https://a/t?x=1,2",error_description="say \\"hi\\", please"',
    );
    expect(challenge!.params.realm).toBe("https://a/t?x=1,2");
    expect(challenge!.params.error_description).toBe('say "hi", please');
  });

  test("a bare scheme and garbage do not throw", () => {
    expect(parseChallenges("Basic")).toEqual([{ scheme: "basic", params: {} }]);
    expect(parseChallenges("")).toEqual([]);
    expect(() => parseChallenges('=,,"" Bearer realm')).not.toThrow();
  });
});

describe("token scopes", () => {
  test("parse and format, with names holding a port or slashes", () => {
    expect(parseScope("repository:team/app:pull,push")).toEqual({
      type: "repository",
      name: "team/app",
      actions: ["pull", "push"],
    });
    expect(parseScope("repository:host:5000/app:pull")?.name).toBe("host:5000/app");
    expect(parseScope("nonsense")).toBeUndefined();
    expect(formatScope({ type: "repository", name: "a", actions: ["push", "pull", "push"] })).toBe(
      "repository:a:pull,push",
    );
    expect(repositoryScope("a/b", "push", "pull")).toBe("repository:a/b:pull,push");
  });

  test("merging joins actions per resource, whatever the order asked", () => {
    expect(mergeScopes(["repository:a:pull", "repository:a:push,pull", "repository:b:pull"])).toEqual([
      "repository:a:pull,push",
      "repository:b:pull",
    ]);
    expect(mergeScopes(["repository:a:push repository:a:pull"])).toEqual(["repository:a:pull,push"]);
    expect(mergeScopes([CATALOG_SCOPE, "registry:catalog:*"])).toEqual(["registry:catalog:*"]);
    expect(mergeScopes(["repository:a:*", "repository:a:pull"])).toEqual(["repository:a:*"]);
  });

  test("a token covers a request when it grants every action asked", () => {
    expect(scopesCover(["repository:a:pull,push"], ["repository:a:pull"])).toBe(true);
    expect(scopesCover(["repository:a:pull"], ["repository:a:pull,push"])).toBe(false);
    expect(scopesCover(["repository:a:pull"], ["repository:b:pull"])).toBe(false);
    expect(scopesCover(["registry:catalog:*"], ["registry:catalog:*"])).toBe(true);
    expect(scopesCover(["repository:a:*"], ["repository:a:delete"])).toBe(true);
    expect(scopesCover(["repository:a:pull"], [])).toBe(true);
  });
});

describe("token endpoint", () => {
  test("request URL: realm query kept, service and one scope parameter each", () => {
    const url = tokenUrl("https://auth.example/token?x=1", "reg", ["repository:a:pull", "repository:b:pull"]);
    expect(url.searchParams.get("x")).toBe("1");
    expect(url.searchParams.get("service")).toBe("reg");
    expect(url.searchParams.getAll("scope")).toEqual(["repository:a:pull", "repository:b:pull"]);
  });

  test("answers: token or access_token, expires_in, refresh_token", () => {
    expect(parseTokenResponse('{"token":"t1","expires_in":300}')).toEqual({ token: "t1", expiresIn: 300 });
    expect(parseTokenResponse('{"access_token":"t2","refresh_token":"r"}')).toEqual({
      token: "t2",
      refreshToken: "r",
    });
    expect(() => parseTokenResponse("{}")).toThrow("without a token");
    expect(() => parseTokenResponse("<html>")).toThrow("JSON");
  });
});
