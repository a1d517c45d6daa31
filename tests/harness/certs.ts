/**
 * Key and certificate material for the test registries, made with the openssl command line: a CA and
 * a server certificate for TLS mode, and the EC P-256 key whose certificate the registry trusts to
 * verify bearer tokens (REFERENCE.md §10).
 */
import { spawnSync } from "node:child_process";
import { createHash, createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

function openssl(args: string[], cwd: string): void {
  const result = spawnSync("openssl", args, { cwd, encoding: "utf8" });
  if (result.error) throw new Error(`openssl could not start: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`openssl ${args[0]} failed (${result.status}):\n${result.stderr}`);
}

/** A self-signed, EC P-256 key and certificate pair written into `dir` as `<name>.key` / `<name>.pem`. */
function selfSigned(dir: string, name: string, subject: string, extra: string[] = []): void {
  openssl(
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.pem`,
      "-days",
      "2",
      "-subj",
      subject,
      ...extra,
    ],
    dir,
  );
}

export interface TlsFiles {
  /** PEM of the CA that signed the server certificate. */
  caFile: string;
  caPem: string;
  /** Server certificate (SAN IP:127.0.0.1, DNS:localhost) and its key. */
  certFile: string;
  keyFile: string;
  /** A directory holding only `ca.crt`, the layout `skopeo --*-cert-dir` and containers' certs.d expect. */
  certDir: string;
}

/** Makes a CA and a server certificate for 127.0.0.1/localhost signed by it. */
export function makeTlsFiles(dir: string): TlsFiles {
  mkdirSync(dir, { recursive: true });
  selfSigned(dir, "ca", "/CN=skiff test CA", [
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  // OpenSSL 3: `req -x509 -CA` signs the new certificate with the CA instead of self-signing it.
  selfSigned(dir, "server", "/CN=localhost", [
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-addext",
    "subjectAltName=IP:127.0.0.1,DNS:localhost",
    "-addext",
    "basicConstraints=CA:FALSE",
    "-addext",
    "extendedKeyUsage=serverAuth",
  ]);
  const certDir = join(dir, "certs.d");
  mkdirSync(certDir);
  const caPem = readFileSync(join(dir, "ca.pem"), "utf8");
  writeFileSync(join(certDir, "ca.crt"), caPem);
  return {
    caFile: join(dir, "ca.pem"),
    caPem,
    certFile: join(dir, "server.pem"),
    keyFile: join(dir, "server.key"),
    certDir,
  };
}

export interface SigningKey {
  privateKey: KeyObject;
  /** libtrust key id of the public key: what the JWT header's `kid` must say. */
  kid: string;
  /** Self-signed certificate of the key (the registry's `rootcertbundle`). */
  certFile: string;
}

/** Makes the EC P-256 token signing key and its self-signed certificate in `dir`. */
export function makeSigningKey(dir: string, name = "token-signer"): SigningKey {
  mkdirSync(dir, { recursive: true });
  selfSigned(dir, name, `/CN=${name}`);
  const privateKey = createPrivateKey(readFileSync(join(dir, `${name}.key`)));
  return { privateKey, kid: libtrustKeyId(privateKey), certFile: join(dir, `${name}.pem`) };
}

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/**
 * The libtrust key id the distribution registry uses to find a token's signing key: base32 (RFC 4648,
 * no padding) of the first 30 bytes of sha256(DER SubjectPublicKeyInfo), in 12 groups of 4 joined by `:`.
 */
export function libtrustKeyId(key: KeyObject): string {
  const publicKey = key.type === "private" ? createPublicKey(key) : key;
  const der = publicKey.export({ type: "spki", format: "der" });
  const bytes = createHash("sha256").update(der).digest().subarray(0, 30);
  let bits = 0;
  let value = 0;
  let text = "";
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      text += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  // 30 bytes = 240 bits = exactly 48 characters, so there is never a partial group left.
  return text.match(/.{4}/g)!.join(":");
}
