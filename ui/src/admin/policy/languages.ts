// Syntax colouring for the policy files: small stream tokenizers (Cedar has no official
// CodeMirror mode). They colour; the engine's review is what checks.

import { StreamLanguage, type StreamParser } from "@codemirror/language";

import type { PolicyFile } from "../../api/types";

const CEDAR_KEYWORDS = new Set([
  "permit",
  "forbid",
  "when",
  "unless",
  "principal",
  "action",
  "resource",
  "context",
  "in",
  "has",
  "like",
  "is",
  "if",
  "then",
  "else",
]);

const SCHEMA_KEYWORDS = new Set([
  ...CEDAR_KEYWORDS,
  "namespace",
  "entity",
  "type",
  "appliesTo",
  "tags",
  "enum",
]);

interface StringState {
  /** The quote that closes the string being read, if a string spans lines. */
  quote: string | null;
}

/** Reads a string body up to `quote` (backslash escapes); true when it closed. */
function readString(stream: Parameters<StreamParser<StringState>["token"]>[0], quote: string): boolean {
  let escaped = false;
  while (!stream.eol()) {
    if (!escaped && stream.match(quote)) {
      return true;
    }
    const ch = stream.next();
    escaped = !escaped && ch === "\\";
  }
  return false;
}

function cedarParser(keywords: Set<string>): StreamParser<StringState> {
  return {
    name: "cedar",
    startState: () => ({ quote: null }),
    token(stream, state) {
      if (state.quote !== null) {
        if (readString(stream, state.quote)) state.quote = null;
        return "string";
      }
      if (stream.eatSpace()) return null;
      if (stream.match("//")) {
        stream.skipToEnd();
        return "comment";
      }
      if (stream.match(/^@[A-Za-z_]\w*/)) return "meta";
      if (stream.eat('"')) {
        if (!readString(stream, '"')) state.quote = '"';
        return "string";
      }
      if (stream.match(/^-?\d+/)) return "number";
      if (stream.match(/^[A-Za-z_]\w*/)) {
        const word = stream.current();
        if (keywords.has(word)) return "keyword";
        if (word === "true" || word === "false") return "atom";
        return stream.match("::", false) ? "typeName" : "variableName";
      }
      if (stream.match(/^(==|!=|<=|>=|&&|\|\||::|[<>!=+\-*])/)) return "operator";
      stream.next();
      return null;
    },
    languageData: { commentTokens: { line: "//" } },
  };
}

const tomlParser: StreamParser<StringState> = {
  name: "toml",
  startState: () => ({ quote: null }),
  token(stream, state) {
    if (state.quote !== null) {
      if (readString(stream, state.quote)) state.quote = null;
      return "string";
    }
    if (stream.eatSpace()) return null;
    if (stream.eat("#")) {
      stream.skipToEnd();
      return "comment";
    }
    if (stream.sol() && stream.match(/^\[\[?[^\]]*\]\]?/)) return "heading";
    for (const quote of ['"""', "'''", '"', "'"]) {
      if (stream.match(quote)) {
        if (!readString(stream, quote)) state.quote = quote;
        return "string";
      }
    }
    if (stream.match(/^[A-Za-z0-9_.-]+(?=\s*=)/)) return "propertyName";
    if (stream.match(/^(true|false)\b/)) return "atom";
    if (stream.match(/^[+-]?\d[\d_:.TZ+-]*/)) return "number";
    stream.next();
    return null;
  },
  languageData: { commentTokens: { line: "#" } },
};

const LANGUAGES = {
  cedar: StreamLanguage.define(cedarParser(CEDAR_KEYWORDS)),
  cedarschema: StreamLanguage.define(cedarParser(SCHEMA_KEYWORDS)),
  toml: StreamLanguage.define(tomlParser),
};

/** The editor language of a policy file. */
export function languageOf(language: PolicyFile["language"]): StreamLanguage<StringState> {
  return LANGUAGES[language];
}
