import { describe, expect, test } from "bun:test";
import { firstPagePath, nextPageUrl, parseLinkHeader } from "../../src/content/registry/pagination.ts";

describe("Link header", () => {
  test("the distribution registry's next link", () => {
    const value = '</v2/app/tags/list?last=v9&n=10>; rel="next"';
    expect(parseLinkHeader(value)).toEqual([
      { url: "/v2/app/tags/list?last=v9&n=10", params: { rel: "next" } },
    ]);
    expect(nextPageUrl(value, "http://r.example:5000/v2/app/tags/list?n=10")?.href).toBe(
      "http://r.example:5000/v2/app/tags/list?last=v9&n=10",
    );
  });

  test("several links, unquoted rel, extra parameters, commas inside quotes", () => {
    const value = '<https://a/prev>; rel=prev; title="a, b", <https://a/next?x=1>;rel="next"';
    const links = parseLinkHeader(value);
    expect(links.map((l) => l.url)).toEqual(["https://a/prev", "https://a/next?x=1"]);
    expect(links[0]!.params).toEqual({ rel: "prev", title: "a, b" });
    expect(nextPageUrl(value, "https://a/")?.href).toBe("https://a/next?x=1");
  });

  test("rel with several values, and no next link at all", () => {
    expect(nextPageUrl('<https://a/n>; rel="last next"', "https://a/")?.href).toBe("https://a/n");
    expect(nextPageUrl('<https://a/p>; rel="prev"', "https://a/")).toBeUndefined();
    expect(nextPageUrl(null, "https://a/")).toBeUndefined();
    expect(nextPageUrl("garbage", "https://a/")).toBeUndefined();
  });

  test("first page query: n and last", () => {
    expect(firstPagePath("/v2/a/tags/list", 100, undefined)).toBe("/v2/a/tags/list?n=100");
    expect(firstPagePath("/v2/_catalog", 5, "ns/app")).toBe("/v2/_catalog?n=5&last=ns%2Fapp");
    expect(firstPagePath("/v2/_catalog", undefined, "")).toBe("/v2/_catalog");
  });
});
