import { useEffect, useRef } from "react";

import { HighlightStyle, syntaxHighlighting } from "@codemirror/language";
import { lintGutter, setDiagnostics, type Diagnostic } from "@codemirror/lint";
import { Compartment, EditorState } from "@codemirror/state";
import { EditorView } from "@codemirror/view";
import { tags } from "@lezer/highlight";
import { basicSetup } from "codemirror";

import type { PolicyFile, PolicyProblem } from "../../api/types";
import { languageOf } from "./languages";

/**
 * The end-to-end test hook: WebDriver sets and reads the editor's text through
 * `window.__airlockEditor` (typing into CodeMirror from WebDriver is unreliable). Present
 * while a policy editor is mounted.
 */
export interface AirlockEditorHook {
  setText(text: string): void;
  getText(): string;
}

declare global {
  interface Window {
    /** See {@link AirlockEditorHook}. */
    __airlockEditor?: AirlockEditorHook;
  }
}

/** Problems at a line of the shown text as lint diagnostics (lines past the end are dropped). */
function diagnosticsFor(state: EditorState, problems: PolicyProblem[]): Diagnostic[] {
  return problems.flatMap((problem) => {
    if (problem.line === null || problem.line < 1 || problem.line > state.doc.lines) {
      return [];
    }
    const line = state.doc.line(problem.line);
    return [{ from: line.from, to: line.to, severity: "error" as const, message: problem.message }];
  });
}

// The editor lives in a shadow root: there CodeMirror's style modules use constructed
// (adopted) style sheets, which the CSP allows, instead of <style> elements, which it blocks.
// So its look is given here, not in admin.css; the colours are the page's CSS variables.
const theme = EditorView.theme({
  "&": { backgroundColor: "var(--input-bg)", color: "var(--fg)", height: "100%" },
  "&.cm-focused": { outline: "3px solid var(--focus)", outlineOffset: "-3px" },
  ".cm-scroller": { fontFamily: "var(--font-mono)", fontSize: "0.9rem", lineHeight: "1.5" },
  ".cm-content": { caretColor: "var(--fg)" },
  ".cm-gutters": { backgroundColor: "var(--panel-bg)", color: "var(--muted)", borderRight: "1px solid var(--border)" },
  ".cm-activeLine": { backgroundColor: "var(--active-line)" },
  ".cm-activeLineGutter": { backgroundColor: "var(--active-line)" },
  "&.cm-focused .cm-selectionBackground, .cm-selectionBackground": { backgroundColor: "var(--selection)" },
  ".cm-cursor": { borderLeftColor: "var(--fg)" },
  ".cm-tooltip": { backgroundColor: "var(--card-bg)", color: "var(--fg)", border: "1px solid var(--border)" },
});

const highlight = HighlightStyle.define([
  { tag: tags.keyword, color: "var(--syntax-keyword)", fontWeight: "600" },
  { tag: tags.string, color: "var(--syntax-string)" },
  { tag: tags.comment, color: "var(--faint)", fontStyle: "italic" },
  { tag: tags.meta, color: "var(--syntax-meta)" },
  { tag: [tags.number, tags.atom, tags.propertyName], color: "var(--syntax-number)" },
  { tag: [tags.typeName, tags.heading], color: "var(--syntax-type)", fontWeight: "600" },
]);

/**
 * A CodeMirror 6 editor for one policy file. `value` replaces the text when it differs (a file
 * switch); edits are reported through `onChange`; `problems` (this file's, with a line) show
 * as lint diagnostics.
 */
export function PolicyEditor({
  value,
  language,
  problems,
  onChange,
}: {
  value: string;
  language: PolicyFile["language"];
  problems: PolicyProblem[];
  onChange: (text: string) => void;
}) {
  const hostRef = useRef<HTMLDivElement>(null);
  const viewRef = useRef<EditorView | null>(null);
  const onChangeRef = useRef(onChange);
  const initial = useRef({ value, language });
  const languageSlot = useRef(new Compartment());

  useEffect(() => {
    onChangeRef.current = onChange;
  }, [onChange]);

  useEffect(() => {
    const host = hostRef.current;
    if (!host) return;
    const shadow = host.shadowRoot ?? host.attachShadow({ mode: "open" });
    const view = new EditorView({
      parent: shadow,
      root: shadow,
      state: EditorState.create({
        doc: initial.current.value,
        extensions: [
          basicSetup,
          lintGutter(),
          syntaxHighlighting(highlight),
          languageSlot.current.of(languageOf(initial.current.language)),
          theme,
          EditorView.lineWrapping,
          EditorView.contentAttributes.of({ "aria-label": "Policy text" }),
          EditorView.updateListener.of((update) => {
            if (update.docChanged) onChangeRef.current(update.state.doc.toString());
          }),
        ],
      }),
    });
    viewRef.current = view;
    window.__airlockEditor = {
      setText(text) {
        view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
      },
      getText: () => view.state.doc.toString(),
    };
    return () => {
      delete window.__airlockEditor;
      viewRef.current = null;
      view.destroy();
    };
  }, []);

  useEffect(() => {
    const view = viewRef.current;
    if (view && view.state.doc.toString() !== value) {
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: value } });
    }
  }, [value]);

  useEffect(() => {
    viewRef.current?.dispatch({ effects: languageSlot.current.reconfigure(languageOf(language)) });
  }, [language]);

  useEffect(() => {
    const view = viewRef.current;
    if (view) view.dispatch(setDiagnostics(view.state, diagnosticsFor(view.state, problems)));
  }, [problems]);

  return <div className="policy-editor" data-testid="policy-editor" ref={hostRef} />;
}
