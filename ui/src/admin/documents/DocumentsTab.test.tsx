import { act, render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";

import type { DocumentRow, IngestFileReport } from "../../api/types";
import { callsOf, Channel, deferred, emit, engineError, invoke, routeCommands, type InvokeArgs } from "../../test/tauriCore";
import { DocumentsTab } from "./DocumentsTab";

vi.mock("@tauri-apps/api/core", () => import("../../test/tauriCore"));

function doc(id: number, title: string, overrides: Partial<DocumentRow> = {}): DocumentRow {
  return {
    id,
    title,
    source: `/srv/manuals/${title}.pdf`,
    format: "pdf",
    classification: "internal",
    audience: "",
    metadata: {},
    version: 1,
    chunks: 42,
    pages: 12,
    content_hash: "ab12",
    ingesting: false,
    updated_at: "2026-11-20T08:00:00Z",
    ...overrides,
  };
}

describe("DocumentsTab", () => {
  beforeEach(() => {
    invoke.mockReset();
  });

  it("says the library is empty, and what to do", async () => {
    routeCommands({ list_documents: () => [] });
    render(<DocumentsTab />);
    expect(await screen.findByTestId("documents-empty")).toHaveTextContent("The library is empty");
    expect(screen.getByTestId("documents-reindex")).toBeDisabled();
  });

  it("lists documents with their classification, counts and source", async () => {
    routeCommands({
      list_documents: () => [
        doc(1, "cartoner-manual", { classification: "restricted", audience: "maintenance", pages: null, version: null }),
      ],
    });
    render(<DocumentsTab />);
    const row = await screen.findByTestId("document-row");
    expect(within(row).getByText("Restricted")).toHaveClass("pill", "class-restricted");
    expect(row).toHaveTextContent("maintenance");
    expect(row).toHaveTextContent("/srv/manuals/cartoner-manual.pdf");
    expect(within(row).getAllByText("—")).toHaveLength(2);
    expect(row).toHaveTextContent("42");
  });

  it("ingests the typed and chosen paths, shows progress from the channel and a result per file", async () => {
    const user = userEvent.setup();
    const answer = deferred<IngestFileReport[]>();
    let ingestArgs: InvokeArgs = {};
    let library: DocumentRow[] = [];
    routeCommands({
      list_documents: () => library,
      pick_document_files: () => ["/home/op/sop-7.md"],
      ingest_documents: (args) => {
        ingestArgs = args;
        return answer.promise;
      },
    });
    render(<DocumentsTab />);
    await screen.findByTestId("documents-empty");
    expect(screen.getByTestId("documents-ingest")).toBeDisabled();

    await user.type(screen.getByTestId("documents-paths"), "/srv/manuals{Enter}{Enter}/srv/manuals");
    await user.click(screen.getByTestId("documents-choose"));
    expect(screen.getByTestId("documents-paths")).toHaveValue("/srv/manuals\n/home/op/sop-7.md");
    await user.selectOptions(screen.getByTestId("documents-classification"), "confidential");
    await user.type(screen.getByTestId("documents-audience"), " shift-leads ");
    await user.click(screen.getByTestId("documents-ingest"));

    expect(callsOf("ingest_documents")).toHaveLength(1);
    expect(ingestArgs).toMatchObject({
      paths: ["/srv/manuals", "/home/op/sop-7.md"],
      classification: "confidential",
      audience: "shift-leads",
    });
    expect(ingestArgs.events).toBeInstanceOf(Channel);
    expect(screen.getByText("Starting…")).toBeInTheDocument();
    expect(screen.getByTestId("documents-ingest")).toBeDisabled();
    expect(screen.getByTestId("documents-choose")).toBeDisabled();

    act(() => {
      emit(ingestArgs, { kind: "file", index: 0, files: 2, path: "/srv/manuals/a.pdf" });
      emit(ingestArgs, { kind: "chunks", done: 10, total: 10, eta_ms: 60_000 });
      emit(ingestArgs, { kind: "finished", path: "/srv/manuals/a.pdf", ok: true, detail: "10 chunks, 4 pages" });
      emit(ingestArgs, { kind: "file", index: 1, files: 2, path: "/home/op/sop-7.md" });
      emit(ingestArgs, { kind: "chunks", done: 5, total: 20, eta_ms: 40_000 });
    });
    const bar = screen.getByRole("progressbar", { name: "Ingest progress" });
    // One file of two done, a quarter of the second: 62.5 %.
    expect(bar).toHaveAttribute("value", "63");
    expect(screen.getByTestId("ingest-file")).toHaveTextContent("File 2 of 2: /home/op/sop-7.md");
    expect(screen.getByTestId("ingest-chunks")).toHaveTextContent("Chunks 5 of 20 embedded · about 40 s left");
    const live = screen.getAllByTestId("ingest-result");
    expect(live).toHaveLength(1);
    expect(live[0]).toHaveAttribute("data-ok", "true");
    expect(live[0]).toHaveTextContent("/srv/manuals/a.pdf — 10 chunks, 4 pages");

    library = [doc(1, "a")];
    const reports: IngestFileReport[] = [
      { path: "/srv/manuals/a.pdf", ok: true, detail: "10 chunks, 4 pages" },
      { path: "/home/op/sop-7.md", ok: false, detail: "not UTF-8 text: convert it and try again" },
    ];
    await act(async () => {
      answer.resolve(reports);
      await answer.promise;
    });
    expect(screen.queryByRole("progressbar")).not.toBeInTheDocument();
    expect(screen.getByTestId("ingest-summary")).toHaveTextContent("Ingested 1 of 2 files; 1 failed");
    const results = screen.getAllByTestId("ingest-result");
    expect(results.map((r) => r.dataset.ok)).toEqual(["true", "false"]);
    expect(results[1]).toHaveTextContent("not UTF-8 text: convert it and try again");
    expect(await screen.findByTestId("document-row")).toHaveTextContent("/srv/manuals/a.pdf");
    // A failed file keeps the paths for another try.
    expect(screen.getByTestId("documents-paths")).toHaveValue("/srv/manuals\n/home/op/sop-7.md");
    expect(screen.getByTestId("documents-ingest")).toBeEnabled();
  });

  it("clears the paths when every file was ingested, and shows a failed ingest's error", async () => {
    const user = userEvent.setup();
    let fail = false;
    routeCommands({
      list_documents: () => [],
      ingest_documents: () =>
        fail ? engineError("the embedding model is not loaded: load one in the Models tab") : [{ path: "/a.md", ok: true, detail: "3 chunks" }],
    });
    render(<DocumentsTab />);
    await user.type(screen.getByTestId("documents-paths"), "/a.md");
    await user.click(screen.getByTestId("documents-ingest"));
    expect(await screen.findByTestId("ingest-summary")).toHaveTextContent("Ingested 1 file.");
    expect(screen.getByTestId("documents-paths")).toHaveValue("");

    fail = true;
    await user.type(screen.getByTestId("documents-paths"), "/b.md");
    await user.click(screen.getByTestId("documents-ingest"));
    expect(await screen.findByRole("alert")).toHaveTextContent(
      "The ingest stopped: the embedding model is not loaded: load one in the Models tab",
    );
    expect(screen.getByTestId("documents-paths")).toHaveValue("/b.md");
  });

  it("asks before removing a document, and removes it only when confirmed", async () => {
    const user = userEvent.setup();
    let library = [doc(7, "old-sop"), doc(8, "cartoner-manual")];
    routeCommands({
      list_documents: () => library,
      remove_document: ({ id }) => {
        library = library.filter((d) => d.id !== id);
        return true;
      },
    });
    render(<DocumentsTab />);
    const rows = await screen.findAllByTestId("document-row");
    const first = rows[0] as HTMLElement;

    await user.click(within(first).getByTestId("document-remove"));
    expect(callsOf("remove_document")).toHaveLength(0);
    expect(within(first).getByRole("group", { name: /Remove “old-sop” and its chunks/ })).toBeInTheDocument();
    expect(within(first).getByTestId("document-remove-confirm")).toHaveFocus();
    await user.keyboard("{Escape}");
    expect(within(first).queryByTestId("document-remove-confirm")).not.toBeInTheDocument();
    expect(within(first).getByTestId("document-remove")).toHaveFocus();
    expect(callsOf("remove_document")).toHaveLength(0);

    await user.click(within(first).getByTestId("document-remove"));
    await user.click(within(first).getByTestId("document-remove-confirm"));
    expect(callsOf("remove_document")).toEqual([{ id: 7 }]);
    expect(await screen.findByTestId("documents-notice")).toHaveTextContent("Removed “old-sop”.");
    expect(await screen.findAllByTestId("document-row")).toHaveLength(1);
  });

  it("shows why a removal failed", async () => {
    const user = userEvent.setup();
    routeCommands({
      list_documents: () => [doc(7, "old-sop")],
      remove_document: () => engineError("the library is read-only in this deployment"),
    });
    render(<DocumentsTab />);
    await user.click(await screen.findByTestId("document-remove"));
    await user.click(screen.getByTestId("document-remove-confirm"));
    expect(await screen.findByRole("alert")).toHaveTextContent(
      "Could not remove “old-sop”: the library is read-only in this deployment",
    );
  });

  it("reindexes everything after a confirmation, with the same progress view", async () => {
    const user = userEvent.setup();
    const answer = deferred<IngestFileReport[]>();
    let reindexArgs: InvokeArgs = {};
    routeCommands({
      list_documents: () => [doc(1, "a"), doc(2, "b")],
      reindex_documents: (args) => {
        reindexArgs = args;
        return answer.promise;
      },
    });
    render(<DocumentsTab />);
    await screen.findAllByTestId("document-row");
    await user.click(screen.getByTestId("documents-reindex"));
    expect(callsOf("reindex_documents")).toHaveLength(0);
    await user.click(screen.getByTestId("documents-reindex-confirm"));
    expect(callsOf("reindex_documents")).toHaveLength(1);
    act(() => {
      emit(reindexArgs, { kind: "file", index: 1, files: 2, path: "/srv/manuals/b.pdf" });
    });
    expect(screen.getByRole("progressbar", { name: "Reindex progress" })).toHaveAttribute("value", "0");
    expect(screen.getByTestId("ingest-file")).toHaveTextContent("File 2 of 2");
    for (const remove of screen.getAllByTestId("document-remove")) expect(remove).toBeDisabled();
    await act(async () => {
      answer.resolve([
        { path: "/srv/manuals/a.pdf", ok: true, detail: "42 chunks" },
        { path: "/srv/manuals/b.pdf", ok: true, detail: "40 chunks" },
      ]);
      await answer.promise;
    });
    expect(screen.getByTestId("ingest-summary")).toHaveTextContent("Reindexed 2 files.");
    expect(screen.getAllByTestId("document-remove")[0]).toBeEnabled();
  });
});
