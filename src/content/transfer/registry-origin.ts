/**
 * A registry blob as a worker fetches it: the main thread prepares each request with the
 * registry client (token, `--resolve`, TLS, `-H` headers, `--debug`), decides whether a redirect
 * may be followed, and answers 401s the way `RegistryClient.send` does.
 */
import type { Descriptor } from "../../oci/descriptor.ts";
import type { RegistryClient } from "../registry/client.ts";
import { networkError, registryAnswer } from "../registry/errors.ts";
import { redirectTarget } from "../registry/redirects.ts";
import type { BlobOrigin } from "./offload.ts";
import type { Ask } from "./protocol.ts";

function rangeHeaders(question: Ask): Record<string, string> {
  if (question.to !== undefined) return { Range: `bytes=${question.from}-${question.to - 1}` };
  return question.from > 0 ? { Range: `bytes=${question.from}-` } : {};
}

/** Blob `desc` of `repository`, read with the scopes `scopes()` gives at the time of each request. */
export function registryOrigin(
  client: RegistryClient,
  repository: string,
  desc: Descriptor,
  scopes: () => string[],
): BlobOrigin {
  const path = `/v2/${repository}/blobs/${desc.digest}`;
  const what = `blob ${desc.digest}`;
  let asked = scopes();
  const fail = (status: number, statusText: string, headers: [string, string][], body: string) =>
    client.fail(new Response(body, { status, statusText, headers }), { repository, what });
  return {
    kind: "registry",
    where: `${client.registry}/${repository}`,
    async prepare(question) {
      const headers = rangeHeaders(question);
      switch (question.kind) {
        case "open":
          return client.prepare({ url: path, headers, scopes: asked });
        case "redirect": {
          const next = redirectTarget(
            client.registry,
            new URL(question.url),
            question.location,
            question.hops - 1,
          );
          return client.prepare({ url: next.href, headers, scopes: asked });
        }
        case "unauthorized": {
          const next =
            question.rounds <= 2
              ? client.authorizer.challenge(question.challenge, asked, question.sent)
              : undefined;
          if (next) {
            asked = next;
            return client.prepare({ url: path, headers, scopes: asked });
          }
          if (question.sent?.startsWith("Bearer ")) {
            const answer = registryAnswer(401, question.statusText, question.body);
            throw client.authorizer.refusedError(asked, question.challenge, answer);
          }
          const challenge: [string, string][] = question.challenge
            ? [["www-authenticate", question.challenge]]
            : [];
          throw await fail(401, question.statusText, challenge, question.body);
        }
      }
    },
    refused: (refusal) => fail(refusal.status, refusal.statusText, refusal.headers, refusal.body),
    network: (error) => networkError(error, client.registry, client.https),
    debug(lines) {
      client.settings.debug?.(client.scrub(lines.join("\n")));
    },
  };
}
