// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Go templates and regexp replacements use ${...} literally.
/**
 * The Sprig functions ORAS's templates offer (it gives them Sprig's TxtFuncMap) and Go's html, js
 * and urlquery, checked against what ORAS 1.3.2 printed for the same templates on the same data
 * (`oras manifest fetch --format go-template=...` of the e2e suite's foobar image).
 */
import { describe, expect, test } from "bun:test";
import process from "node:process";
import { parseTemplate, renderTemplate, templateFunctions } from "../../src/cli/output/template.ts";
import { SkiffError } from "../../src/errors.ts";

const layer = (digest: string, title: string) => ({
  mediaType: "application/vnd.oci.image.layer.v1.tar",
  digest,
  size: 3,
  annotations: { "org.opencontainers.image.title": title },
});
const FOO = "sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae";
const BAR = "sha256:fcde2b2edba56bf408601fb721fe9b5c338d10ee429ea04fae5511b68fbf8fb9";
const DIGEST = "sha256:fd6ed2f36b5465244d5dc86cb4e7df0ab8a9d24adc57825099f522fe009a22bb";

/** What `manifest fetch --format json` gives for the foobar image (the content's keys sorted). */
const data = {
  reference: `localhost:17500/command/images@${DIGEST}`,
  mediaType: "application/vnd.oci.image.manifest.v1+json",
  digest: DIGEST,
  size: 851,
  content: {
    config: {
      digest: "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
      mediaType: "application/vnd.unknown.config.v1+json",
      size: 2,
    },
    layers: [layer(FOO, "foo1"), layer(FOO, "foo2"), layer(BAR, "bar")],
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    schemaVersion: 2,
  },
};

/** [template, what ORAS 1.3.2 printed]. */
const ORAS_OUTPUTS: [string, string][] = [
  [
    "{{(first .content.layers).digest}}",
    "sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
  ],
  ["{{(last .content.layers).annotations}}", "map[org.opencontainers.image.title:bar]"],
  ["{{.content.layers | rest | len}} {{.content.layers | initial | len}}", "2 2"],
  ['{{join "," (list "a" "b" 3 nil)}}', "a,b,3"],
  ['{{default "none" .nosuch}} {{default "none" .digest | trunc 19}}', "none sha256:fd6ed2f36b54"],
  ['{{.digest | trimPrefix "sha256:" | trunc 12 | upper}}', "FD6ED2F36B54"],
  [
    '{{.reference | replace "localhost" "LH" | lower}}',
    "lh:17500/command/images@sha256:fd6ed2f36b5465244d5dc86cb4e7df0ab8a9d24adc57825099f522fe009a22bb",
  ],
  [
    '{{split ":" .digest}}',
    "map[_0:sha256 _1:fd6ed2f36b5465244d5dc86cb4e7df0ab8a9d24adc57825099f522fe009a22bb]",
  ],
  [
    '{{splitList ":" .digest | toJson}}',
    '["sha256","fd6ed2f36b5465244d5dc86cb4e7df0ab8a9d24adc57825099f522fe009a22bb"]',
  ],
  ['{{has "foo2" (list "foo1" "foo2")}} {{hasKey .content "config"}}', "true true"],
  [
    "{{index .content.layers 1 | toJson}}",
    '{"annotations":{"org.opencontainers.image.title":"foo2"},"digest":"sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae","mediaType":"application/vnd.oci.image.layer.v1.tar","size":3}',
  ],
  ['{{printf "%s=%v" "size" .size}}', "size=851"],
  [
    '{{dict "b" 1 "a" (list 1 2) | toJson}} {{dict "x" "<&>" | toPrettyJson}}',
    '{"a":[1,2],"b":1} {\n  "x": "\\u003c\\u0026\\u003e"\n}',
  ],
  ['{{toRawJson (dict "x" "<&>")}}', '{"x":"<&>"}'],
  [
    '{{pluck "mediaType" .content.config (dict "mediaType" "x") | toJson}}',
    '["application/vnd.unknown.config.v1+json","x"]',
  ],
  ['{{dig "config" "size" "none" .content}} {{dig "config" "nope" "none" .content}}', "2 none"],
  [
    "{{add 1 2 3}} {{sub 10 3}} {{mul 2 3}} {{div 7 2}} {{mod 7 2}} {{max 1 5 3}} {{min 4 2}} {{add1 .size}}",
    "6 7 6 3 1 5 2 852",
  ],
  [
    '{{addf 1.5 2}} {{divf 1 4}} {{floor 1.7}} {{ceil 1.2}} {{round 3.14159 2}} {{int "42"}} {{float64 "1.5"}} {{atoi "12"}}',
    "3.5 0.25 1 2 3.14 42 1.5 12",
  ],
  [
    '{{empty ""}} {{empty .nosuch}} {{coalesce "" nil "x"}} {{all 1 "a"}} {{any 0 ""}} {{ternary "y" "n" true}}',
    "true true x true false y",
  ],
  [
    '{{typeOf .size}} {{typeOf .content}} {{typeOf .content.layers}} {{kindOf .content}} {{kindIs "map" .content}} {{typeOf nil}}',
    "float64 map[string]interface {} []interface {} map true <nil>",
  ],
  [
    '{{b64enc "hello"}} {{b64dec "aGVsbG8="}} {{b32enc "hello"}} {{b32dec "NBSWY3DP"}} {{sha256sum "a"}} {{sha1sum "a"}} {{adler32sum "hello"}}',
    "aGVsbG8= hello NBSWY3DP hello ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb 86f7e437faa5a7fce15d1ddcb9eaeaea377667b8 103547413",
  ],
  [
    '{{base "a/b/c.txt"}} {{dir "a/b/c.txt"}} {{ext "a/b/c.txt"}} {{clean "a//b/../c/"}} {{isAbs "/x"}}',
    "c.txt a/b .txt a/c true",
  ],
  [
    '{{title "hello world"}} {{untitle "Hello World"}} {{repeat 3 "ab"}} {{substr 1 3 "abcdef"}} {{nospace " a b "}} {{abbrev 5 "hello world"}} {{initials "hello big world"}}',
    "Hello World hello world ababab bc ab he... hbw",
  ],
  [
    '{{quote "a" 1 nil}} {{squote "a" "b"}} {{cat "a" 1 nil "b"}} {{indent 2 "a\\nb"}}|{{nindent 2 "a"}}',
    "\"a\" \"1\" 'a' 'b' a 1 b   a\n  b|\n  a",
  ],
  [
    '{{plural "one" "many" 1}} {{plural "one" "many" 2}} {{snakecase "fooBarBaz"}} {{camelcase "foo_bar_baz"}} {{kebabcase "fooBar"}} {{swapcase "AbC"}}',
    "one many foo_bar_baz FooBarBaz foo-bar aBc",
  ],
  [
    '{{toString 12}} {{toStrings (list 1 "a") | toJson}} {{splitn ":" 2 "a:b:c"}} {{sortAlpha (list "b" "a" "C")}}',
    '12 ["1","a"] map[_0:a _1:b:c] [C a b]',
  ],
  [
    '{{regexMatch "^sha256:[a-f0-9]+$" .digest}} {{regexFind "[0-9]+" "abc123def45"}} {{regexFindAll "[0-9]" "a1b2c3" 2}} {{regexReplaceAll "a(x*)b" "-ab-axxb-" "${1}W"}} {{regexReplaceAllLiteral "a(x*)b" "-ab-" "${1}"}} {{regexSplit "z+" "pizza" -1}} {{regexQuoteMeta "1.2+"}}',
    "true 123 [1 2] -W-xxW- -${1}- [pi a] 1\\.2\\+",
  ],
  [
    '{{append (list 1) 2}} {{prepend (list 1) 0}} {{concat (list 1) (list 2 3)}} {{reverse (list 1 2 3)}} {{uniq (list 1 1 2)}} {{without (list 1 2 3) 2}} {{compact (list 0 1 "" "a")}}',
    "[1 2] [0 1] [1 2 3] [3 2 1] [1 2] [1 3] [1 a]",
  ],
  [
    "{{slice (list 1 2 3 4) 1 3}} {{chunk 2 (list 1 2 3)}} {{until 3}} {{untilStep 0 10 3}} {{seq 3}} {{seq 2 5}} {{seq 5 2}}",
    "[2 3] [[1 2] [3]] [0 1 2] [0 3 6 9] 1 2 3 2 3 4 5 5 4 3 2",
  ],
  [
    '{{trim "  x  "}} {{trimAll "$" "$5.00$"}} {{trimSuffix ".txt" "a.txt"}} {{contains "ab" "cabd"}} {{hasPrefix "a" "abc"}} {{hasSuffix "c" "abc"}}',
    "x 5.00 a true true true",
  ],
  [
    '{{html "<a href=\'x\'>&</a>"}} {{js "a\'b\\"c<d>=&"}} {{urlquery "a b&c=d/\u00e9"}}',
    "&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt; a\\'b\\\"c\\u003Cd\\u003E\\u003D\\u0026 a+b%26c%3Dd%2F%C3%A9",
  ],
  [
    '{{$d := dict "a" 1}}{{$_ := set $d "b" 2}}{{$_ := unset $d "a"}}{{toJson $d}} {{pick (dict "a" 1 "b" 2) "a" | toJson}} {{omit (dict "a" 1 "b" 2) "a" | toJson}}',
    '{"b":2} {"a":1} {"b":2}',
  ],
  [
    '{{merge (dict "a" 1 "n" (dict "x" 1)) (dict "a" 2 "b" 3 "n" (dict "y" 2)) | toJson}} {{mergeOverwrite (dict "a" 1) (dict "a" 2) | toJson}}',
    '{"a":1,"b":3,"n":{"x":1,"y":2}} {"a":2}',
  ],
  [
    '{{fromJson "{\\"a\\":[1,2]}" | toJson}} {{deepEqual (list 1 2) (list 1 2)}} {{get (dict "a" 1) "a"}} {{get (dict "a" 1) "b"}}',
    '{"a":[1,2]} true 1 ',
  ],
  ["{{first (list)}} {{last (list)}}", "<no value> <no value>"],
];

describe("Sprig and Go functions, as ORAS prints them", () => {
  for (const [template, expected] of ORAS_OUTPUTS) {
    test(template, () => {
      expect(renderTemplate(template, structuredClone(data))).toBe(expected);
    });
  }
});

describe("where skiff is lenient or ORAS is random", () => {
  test("first and last of an empty or missing list are missing; keys and values come sorted", () => {
    expect(renderTemplate("{{first .nosuch}} {{last .nosuch}}", {})).toBe("<no value> <no value>");
    expect(renderTemplate('{{values (dict "b" 1 "a" 2) | toJson}}', {})).toBe("[2,1]");
  });

  test("env and expandenv read the environment", () => {
    process.env.SKIFF_TEMPLATE_TEST = "here";
    expect(
      renderTemplate(
        '{{env "SKIFF_TEMPLATE_TEST"}} {{expandenv "$SKIFF_TEMPLATE_TEST-${SKIFF_TEMPLATE_TEST}"}}',
        {},
      ),
    ).toBe("here here-here");
    delete process.env.SKIFF_TEMPLATE_TEST;
  });

  test("fail, a bad regexp and division by zero stop the template with the function named", () => {
    for (const [template, message] of [
      ['{{fail "no referrers"}}', "error calling fail: no referrers"],
      ['{{regexMatch "(" "x"}}', "error calling regexMatch: error parsing regexp"],
      ["{{div 1 0}}", "error calling div: div: integer divide by zero"],
      ['{{first "abc"}}', "error calling first: Cannot find first on type string"],
    ] as const) {
      let error: unknown;
      try {
        renderTemplate(template, {});
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(SkiffError);
      expect((error as SkiffError).message).toContain(message);
    }
  });

  test("the functions are known when the template is parsed", () => {
    for (const name of ["first", "last", "toJson", "dict", "regexReplaceAll", "b64enc", "env", "html"]) {
      expect(templateFunctions).toContain(name);
    }
    expect(() => parseTemplate("{{nosuchfunction 1}}")).toThrow('function "nosuchfunction" not defined');
  });
});
