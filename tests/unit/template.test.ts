import { describe, expect, test } from "bun:test";
import { parseTemplate, renderTemplate, sprintf, truthy } from "../../src/cli/output/template.ts";
import { SkiffError } from "../../src/errors.ts";

const title = "org.opencontainers.image.title";

/** What `skiff pull --format go-template` hands a template. */
const pulled = {
  reference: "localhost:5000/hello@sha256:aaaa",
  size: 1234567,
  annotations: { [title]: "hello.txt", "com.example/team": "infra" },
  files: [
    { path: "out/a.txt", size: 3, annotations: { [title]: "a.txt" } },
    { path: "out/b.txt", size: 40 },
  ],
  empty: [],
  nothing: null,
  flag: false,
  zero: 0,
  blank: "",
  nested: { deeper: { value: "deep" } },
};

const render = (source: string, data: unknown = pulled): string => renderTemplate(source, data);

function failure(action: () => unknown): SkiffError {
  try {
    action();
  } catch (error) {
    if (error instanceof SkiffError) return error;
    throw error;
  }
  throw new Error("expected a SkiffError");
}

describe("field access", () => {
  test("top-level and nested fields", () => {
    expect(render("{{.reference}}")).toBe("localhost:5000/hello@sha256:aaaa");
    expect(render("{{.nested.deeper.value}}")).toBe("deep");
    expect(render("size={{.size}}!")).toBe("size=1234567!");
  });

  test("integers print as integers, not in exponent form", () => {
    expect(render("{{.size}}", { size: 123456789012 })).toBe("123456789012");
    expect(render("{{.x}}", { x: 1.5 })).toBe("1.5");
  });

  test("a missing key prints <no value>, like Go", () => {
    expect(render("[{{.missing}}]")).toBe("[<no value>]");
    expect(render("[{{.nothing}}]")).toBe("[<no value>]");
    expect(render("[{{.missing.deeper}}]")).toBe("[<no value>]");
  });

  test("dot is the whole value; maps and arrays print like Go's %v", () => {
    expect(render("{{.}}", "plain")).toBe("plain");
    expect(render("{{.}}", { b: 2, a: [1, "x"] })).toBe("map[a:[1 x] b:2]");
    expect(render("{{.annotations}}")).toBe(`map[com.example/team:infra ${title}:hello.txt]`);
    expect(render("{{.flag}} {{.zero}}")).toBe("false 0");
  });

  test("a field of a string is an error naming the field and type", () => {
    const error = failure(() => render("{{.reference.host}}"));
    expect(error.code).toBe("INVALID_INPUT");
    expect(error.message).toContain("can't evaluate field host in type string");
    expect(error.message).toContain("1:3");
  });

  test("text without actions passes through, including lone braces", () => {
    expect(render("plain { text } here")).toBe("plain { text } here");
    expect(render("")).toBe("");
  });
});

describe("index", () => {
  test("annotation keys that are not identifiers", () => {
    expect(render(`{{index .annotations "${title}"}}`)).toBe("hello.txt");
    expect(render(`{{index .annotations "com.example/team"}}`)).toBe("infra");
    expect(render(`{{index .annotations "absent"}}`)).toBe("<no value>");
  });

  test("arrays by position, several keys in a row", () => {
    expect(render("{{index .files 1 `path`}}")).toBe("out/b.txt");
    expect(render("{{(index .files 0).path}}")).toBe("out/a.txt");
  });

  test("out of range and wrong key types are errors", () => {
    expect(failure(() => render("{{index .files 2}}")).message).toContain("index out of range: 2");
    expect(failure(() => render(`{{index .files "a"}}`)).message).toContain("cannot index");
    expect(failure(() => render("{{index .annotations 1}}")).message).toContain("should be string");
  });

  test("index of a missing map is a missing value", () => {
    expect(render(`{{index .missing "k"}}`)).toBe("<no value>");
  });
});

describe("range", () => {
  test("rebinds dot to each element", () => {
    expect(render("{{range .files}}{{.path}}:{{.size}};{{end}}")).toBe("out/a.txt:3;out/b.txt:40;");
  });

  test("with $index, $element and with one variable", () => {
    expect(render("{{range $i, $f := .files}}{{$i}}={{$f.path}} {{end}}")).toBe("0=out/a.txt 1=out/b.txt ");
    expect(render("{{range $f := .files}}{{$f.size}},{{end}}")).toBe("3,40,");
  });

  test("maps range in key order with $key", () => {
    expect(render("{{range $k, $v := .annotations}}{{$k}}={{$v}}\n{{end}}")).toBe(
      `com.example/team=infra\n${title}=hello.txt\n`,
    );
  });

  test("else runs for empty or missing lists", () => {
    expect(render("{{range .empty}}x{{else}}none{{end}}")).toBe("none");
    expect(render("{{range .missing}}x{{else}}none{{end}}")).toBe("none");
    expect(render("{{range .files}}x{{else}}none{{end}}")).toBe("xx");
  });

  test("$ is the root inside range", () => {
    expect(render("{{range .files}}{{$.reference}} {{end}}", { reference: "r", files: [1, 2] })).toBe("r r ");
  });

  test("nested ranges", () => {
    const data = { groups: [{ items: ["a", "b"] }, { items: ["c"] }] };
    expect(render("{{range .groups}}[{{range .items}}{{.}}{{end}}]{{end}}", data)).toBe("[ab][c]");
  });

  test("range over an integer counts from 0", () => {
    expect(render("{{range 3}}{{.}}{{end}}")).toBe("012");
  });

  test("range over a string is an error", () => {
    expect(failure(() => render("{{range .reference}}{{end}}")).message).toContain(
      "range can't iterate over",
    );
  });
});

describe("if, else, with", () => {
  test("Go truthiness", () => {
    for (const field of ["empty", "nothing", "missing", "flag", "zero", "blank"]) {
      expect(render(`{{if .${field}}}yes{{else}}no{{end}}`)).toBe("no");
    }
    for (const field of ["files", "annotations", "size", "reference", "nested"]) {
      expect(render(`{{if .${field}}}yes{{else}}no{{end}}`)).toBe("yes");
    }
    expect(truthy({})).toBe(false);
    expect(truthy([0])).toBe(true);
  });

  test("else if chains share one end", () => {
    const t = parseTemplate("{{if .a}}A{{else if .b}}B{{else}}C{{end}}");
    expect(t.execute({ a: 1 })).toBe("A");
    expect(t.execute({ b: 1 })).toBe("B");
    expect(t.execute({})).toBe("C");
  });

  test("with rebinds dot when the value is non-empty", () => {
    expect(render("{{with .nested.deeper}}{{.value}}{{end}}")).toBe("deep");
    expect(render("{{with .missing}}{{.value}}{{else}}none{{end}}")).toBe("none");
  });

  test("comparison and logic functions", () => {
    expect(render(`{{if eq .size 1234567}}big{{end}}`)).toBe("big");
    expect(render(`{{if eq .blank "x" ""}}one of{{end}}`)).toBe("one of");
    expect(render(`{{if ne .reference "x"}}ne{{end}}`)).toBe("ne");
    expect(render(`{{lt 1 2}} {{le 2 2}} {{gt "b" "a"}} {{ge 1 2}}`)).toBe("true true true false");
    expect(render(`{{and 1 0 "x"}}|{{or 0 "" "z"}}|{{not .empty}}`)).toBe("0|z|true");
    expect(render(`{{if and .files (not .empty)}}ok{{end}}`)).toBe("ok");
  });

  test("and/or stop evaluating at the deciding argument", () => {
    // index out of range would fail if evaluated.
    expect(render("{{or 1 (index .files 9)}}")).toBe("1");
    expect(render("{{and 0 (index .files 9)}}")).toBe("0");
  });

  test("comparing a string with a number is an error", () => {
    expect(failure(() => render(`{{eq .size "1"}}`)).message).toContain("incompatible types for comparison");
  });

  test("a missing value equals nil only", () => {
    expect(render("{{eq .missing nil}} {{eq .missing 1}}")).toBe("true false");
  });
});

describe("json", () => {
  test("json and toJson print compact JSON with sorted keys, as ORAS's templates do (Go maps)", () => {
    const data = { z: 1, a: { b: [1, "two", null] } };
    expect(render("{{json .}}", data)).toBe('{"a":{"b":[1,"two",null]},"z":1}');
    expect(render("{{toJson .a}}", data)).toBe('{"b":[1,"two",null]}');
    expect(render("{{toPrettyJson .a}}", data)).toBe('{\n  "b": [\n    1,\n    "two",\n    null\n  ]\n}');
    expect(render("{{json .missing}}")).toBe("null");
  });

  test("in a pipeline", () => {
    expect(render("{{.files | json}}")).toBe(
      '[{"annotations":{"org.opencontainers.image.title":"a.txt"},"path":"out/a.txt","size":3},{"path":"out/b.txt","size":40}]',
    );
    expect(render(`{{index .annotations "${title}" | toJson}}`)).toBe('"hello.txt"');
  });
});

describe("printf, print, println, len", () => {
  test("verbs %s %d %v %q", () => {
    expect(render(`{{printf "%s is %d bytes" .reference .size}}`)).toBe(
      "localhost:5000/hello@sha256:aaaa is 1234567 bytes",
    );
    expect(render(`{{printf "%v %v" .files .flag}}`)).toBe(
      `[map[annotations:map[${title}:a.txt] path:out/a.txt size:3] map[path:out/b.txt size:40]] false`,
    );
    expect(render(`{{printf "%q" "a\\"b\\n"}}`)).toBe(`"a\\"b\\n"`);
  });

  test("width, flags and precision", () => {
    expect(sprintf("[%5d|%-5d|%05d|%+d]", [42, 42, 42, 42])).toBe("[   42|42   |00042|+42]");
    expect(sprintf("[%-6s|%6s|%.2s]", ["ab", "cd", "xyz"])).toBe("[ab    |    cd|xy]");
    expect(sprintf("%.2f %f %x %X %t %%", [1.23456, 1, 255, "hi", true])).toBe(
      "1.23 1.000000 ff 6869 true %",
    );
  });

  test("Go's markers for wrong, missing and extra arguments", () => {
    expect(sprintf("%d", ["x"])).toBe("%!d(string=x)");
    expect(sprintf("%s", [5])).toBe("%!s(int=5)");
    expect(sprintf("%s|%q", [{ b: "x", a: 5 }, { k: "v" }])).toBe('map[a:%!s(int=5) b:x]|map["k":"v"]');
    expect(sprintf("%d %s", [1])).toBe("1 %!s(MISSING)");
    expect(sprintf("%d", [1, "x", 2])).toBe("1%!(EXTRA string=x, int=2)");
    expect(sprintf("%v|%s", [null, undefined])).toBe("<nil>|%!s(<nil>)");
  });

  test("printf as the last command of a pipeline takes the value as its last argument", () => {
    expect(render(`{{.size | printf "%d B"}}`)).toBe("1234567 B");
    expect(render(`{{len .files | printf "%d files"}}`)).toBe("2 files");
  });

  test("print and println", () => {
    expect(render(`{{print "a" 1 2 "b"}}`)).toBe("a1 2b");
    expect(render(`{{println "a" 1}}`)).toBe("a 1\n");
  });

  test("len of strings (bytes), arrays and maps", () => {
    expect(render("{{len .files}} {{len .annotations}} {{len .empty}}")).toBe("2 2 0");
    expect(render(`{{len "héllo"}}`)).toBe("6");
    expect(failure(() => render("{{len .size}}")).message).toContain("len of type int");
    expect(failure(() => render("{{len .missing}}")).message).toContain("len of <no value>");
  });
});

describe("string helpers", () => {
  test("Sprig order: the subject last, so pipelines read left to right", () => {
    expect(render(`{{.reference | trimPrefix "localhost:5000/"}}`)).toBe("hello@sha256:aaaa");
    expect(render(`{{trimSuffix ".txt" "a.txt"}}`)).toBe("a");
    expect(render(`{{"a.b.c" | replace "." "/"}}`)).toBe("a/b/c");
    expect(render(`{{hasPrefix "local" .reference}} {{hasSuffix "x" .reference}}`)).toBe("true false");
    expect(render(`{{contains "hello" .reference}}`)).toBe("true");
    expect(render(`{{upper "ab"}}{{lower "CD"}}{{trim "  e  "}}`)).toBe("ABcde");
    expect(render(`{{join ", " (keys .annotations)}}`)).toBe(`com.example/team, ${title}`);
    expect(render(`{{.missing | default "none"}} {{.reference | default "none"}}`)).toBe(
      "none localhost:5000/hello@sha256:aaaa",
    );
  });

  test("a non-string argument is an error", () => {
    expect(failure(() => render("{{upper .size}}")).message).toContain("expected string; got int");
  });
});

describe("variables and literals", () => {
  test("declare and assign", () => {
    expect(render("{{$x := .size}}{{$x}}")).toBe("1234567");
    expect(render(`{{$x := 1}}{{if true}}{{$x = 2}}{{end}}{{$x}}`)).toBe("2");
    expect(render(`{{$n := len .files}}{{range .files}}{{$n}}{{end}}`)).toBe("22");
  });

  test("a declaration inside a block ends with the block", () => {
    const error = failure(() => render("{{if true}}{{$y := 1}}{{end}}{{$y}}"));
    expect(error.code).toBe("USAGE");
    expect(error.message).toContain('undefined variable "$y"');
  });

  test("strings, raw strings, numbers, booleans", () => {
    expect(render(`{{"a\\tb\\u00e9"}}`)).toBe("a\tbé");
    expect(render("{{`raw\\n`}}")).toBe("raw\\n");
    expect(render("{{-3}} {{1.5}} {{0x1F}} {{true}} {{nil}}")).toBe("-3 1.5 31 true <no value>");
    expect(render(`{{"}}"}}`)).toBe("}}");
  });

  test("parenthesized pipelines", () => {
    expect(render(`{{printf "%d/%d" (len .files) (len (index .files 0).annotations)}}`)).toBe("2/1");
  });
});

describe("whitespace trimming and comments", () => {
  test("{{- trims before, -}} trims after, across newlines", () => {
    expect(render("a  \n {{- .size}}")).toBe("a1234567");
    expect(render("{{.size -}} \n\t b")).toBe("1234567b");
    expect(render("{{range .files -}}\n  {{.path}}\n{{- end}}")).toBe("out/a.txtout/b.txt");
  });

  test("a dash without a space is a negative number, not a trim marker", () => {
    expect(render("x {{-1}} y")).toBe("x -1 y");
  });

  test("a list one per line, the common CI shape", () => {
    const source = "{{range .files}}{{.path}}\n{{end}}";
    expect(render(source)).toBe("out/a.txt\nout/b.txt\n");
  });

  test("comments vanish, trim markers on comments work, comments may span lines", () => {
    expect(render("a{{/* note */}}b")).toBe("ab");
    expect(render("a \n{{- /* multi\nline */ -}}\n b")).toBe("ab");
  });
});

describe("parse errors", () => {
  const cases: [string, string, string][] = [
    ["{{.reference", "unclosed action", "1:1"],
    ["ok\n  {{if .x}}", "missing {{end}} for {{if}}", "2:5"],
    ["{{end}}", "unexpected {{end}}", "1:1"],
    ["{{else}}", "unexpected {{else}}", "1:1"],
    ["{{range .x}}{{else}}{{else}}{{end}}", "expected {{end}}, found {{else}}", "1:21"],
    ["{{nosuch .x}}", 'function "nosuch" not defined', "1:3"],
    ["{{.a | .b}}", "can't give argument to non-function .b", "1:8"],
    ["{{.a .b}}", "can't give argument to non-function .a", "1:3"],
    ['{{"abc}}', "unterminated quoted string", "1:3"],
    ["{{`abc}}", "unterminated raw quoted string", "1:3"],
    ["{{/* open", "unclosed comment", "1:1"],
    ["{{$x}}", 'undefined variable "$x"', "1:3"],
    ["{{printf (len .x}}", "unclosed left paren", "1:10"],
    ["{{}}", "missing value for command", "1:1"],
    ["{{.a |}}", "missing command in pipeline", "1:7"],
    ['{{template "x"}}', "not supported", "1:3"],
    ['{{define "x"}}{{end}}', "not supported", "1:3"],
    ["{{ 1.2.3 }}", "bad number syntax", "1:4"],
    ["{{ ! }}", "unexpected character", "1:4"],
    ['{{"\\q"}}', "invalid escape sequence", "1:4"],
    ["{{if}}{{end}}", "missing value for if", "1:3"],
  ];
  for (const [source, message, position] of cases) {
    test(`${JSON.stringify(source)} -> ${message}`, () => {
      const error = failure(() => parseTemplate(source));
      expect(error.code).toBe("USAGE");
      expect(error.exitCode).toBe(1);
      expect(error.message).toStartWith(`invalid template: ${position}: `);
      expect(error.message).toContain(message);
      expect(error.hint).toContain("TEMPLATES.md");
    });
  }

  test("errors come from parsing, before any data is seen", () => {
    expect(() => parseTemplate("{{.a}}{{end}}")).toThrow(SkiffError);
  });
});

describe("templates are reusable", () => {
  test("one parse, many values, no state carried over", () => {
    const t = parseTemplate("{{$x := .n}}{{range .list}}{{$x}}{{.}}{{end}}");
    expect(t.execute({ n: "a", list: [1, 2] })).toBe("a1a2");
    expect(t.execute({ n: "b", list: [3] })).toBe("b3");
    expect(t.source).toBe("{{$x := .n}}{{range .list}}{{$x}}{{.}}{{end}}");
  });
});
