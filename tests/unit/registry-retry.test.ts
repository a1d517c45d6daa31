import { describe, expect, test } from "bun:test";
import {
  BASE_DELAY_MS,
  backoffBaseMs,
  backoffDelay,
  isRetryableStatus,
  MAX_DELAY_MS,
  parseRetryAfter,
  retryDelay,
} from "../../src/content/registry/retry.ts";

describe("backoff", () => {
  test("doubles from 200 ms and stops at 3 s", () => {
    const top = (retry: number) => backoffDelay(retry, () => 0.999999);
    expect([0, 1, 2, 3, 4, 5, 9].map(top)).toEqual([200, 400, 800, 1600, 3000, 3000, 3000]);
    expect(BASE_DELAY_MS).toBe(200);
    expect(MAX_DELAY_MS).toBe(3000);
  });

  test("jitter keeps each wait between half and all of the step", () => {
    for (let retry = 0; retry < 8; retry++) {
      const step = Math.min(200 * 2 ** retry, 3000);
      expect(backoffDelay(retry, () => 0)).toBe(step / 2);
      for (let i = 0; i < 50; i++) {
        const delay = backoffDelay(retry);
        expect(delay).toBeGreaterThanOrEqual(step / 2);
        expect(delay).toBeLessThanOrEqual(step);
      }
    }
  });
});

describe("SKIFF_RETRY_BACKOFF_MS", () => {
  test("sets the first step; the steps still double, up to 15 times it", () => {
    expect(backoffBaseMs({})).toBe(200);
    expect(backoffBaseMs({ SKIFF_RETRY_BACKOFF_MS: "10" })).toBe(10);
    for (const junk of ["", "0", "-5", "1.5", "ten"])
      expect(backoffBaseMs({ SKIFF_RETRY_BACKOFF_MS: junk })).toBe(200);
    const saved = process.env.SKIFF_RETRY_BACKOFF_MS;
    process.env.SKIFF_RETRY_BACKOFF_MS = "10";
    try {
      const top = (retry: number) => backoffDelay(retry, () => 0.999999);
      expect([0, 1, 2, 3, 4, 5].map(top)).toEqual([10, 20, 40, 80, 150, 150]);
      expect(backoffDelay(2, () => 0)).toBe(20);
      // A server's Retry-After is still waited for in full.
      expect(retryDelay(0, "2", () => 0)).toBe(2000);
    } finally {
      if (saved === undefined) delete process.env.SKIFF_RETRY_BACKOFF_MS;
      else process.env.SKIFF_RETRY_BACKOFF_MS = saved;
    }
  });
});

describe("what is retried", () => {
  test("408, 429 and 5xx but not 501/505 or client errors", () => {
    for (const status of [408, 429, 500, 502, 503, 504, 599]) expect(isRetryableStatus(status)).toBe(true);
    for (const status of [200, 201, 400, 401, 403, 404, 405, 416, 501, 505])
      expect(isRetryableStatus(status)).toBe(false);
  });
});

describe("Retry-After", () => {
  test("seconds, fractions and HTTP dates", () => {
    expect(parseRetryAfter("3")).toBe(3000);
    expect(parseRetryAfter(" 0 ")).toBe(0);
    expect(parseRetryAfter("1.5")).toBe(1500);
    const now = Date.parse("Wed, 21 Oct 2015 07:28:00 GMT");
    expect(parseRetryAfter("Wed, 21 Oct 2015 07:28:05 GMT", now)).toBe(5000);
    expect(parseRetryAfter("Wed, 21 Oct 2015 07:27:00 GMT", now)).toBe(0);
    expect(parseRetryAfter("soon")).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });

  test("a Retry-After answer wins over the backoff", () => {
    expect(retryDelay(0, "2", () => 0)).toBe(2000);
    expect(retryDelay(3, null, () => 0)).toBe(800);
  });
});
