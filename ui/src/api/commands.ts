// The shell's commands, one typed function each. The shell re-checks every argument: the UI is
// not a trust boundary. Main-window commands first, then the admin window's (the main window's
// capability does not grant those: calling one from it is refused by Tauri).

import { Channel, invoke } from "@tauri-apps/api/core";

import type {
  AccountsView,
  AgentEvent,
  ApprovalOutcome,
  ApprovalRecord,
  Approver,
  AppStatus,
  Args,
  AskOutcome,
  AuditFilter,
  AuditReport,
  AuditRow,
  Checkup,
  UpdateInstalled,
  UpdateView,
  ChecksumStatus,
  Classification,
  ConnectionKind,
  ConnectionTest,
  ConnectionView,
  ConversationSummary,
  Decision,
  DocumentRow,
  ExportedAudit,
  IngestFileReport,
  IngestProgress,
  LoadedModelView,
  Mode,
  ModelLoadProgress,
  ModelsView,
  OpenedChunk,
  PendingApproval,
  PolicyCaseResult,
  PolicyFile,
  PolicyReview,
  PolicySaved,
  StoredMessage,
} from "./types";

/** Model, Docker, keychain and deployment mode, for the status bar. */
export function appStatus(): Promise<AppStatus> {
  return invoke<AppStatus>("app_status");
}

/** Whether the first-run step is still to do: no account holds the admin role. */
export function firstRunNeeded(): Promise<boolean> {
  return invoke<boolean>("first_run_needed");
}

/** Checks every part (hashes the models, reaches Docker, loads the sandbox image): seconds. */
export function runCheckup(): Promise<Checkup> {
  return invoke<Checkup>("run_checkup");
}

/** Creates the first admin account; the engine refuses once any account exists. */
export function createFirstAdmin(name: string, passphrase: string): Promise<void> {
  return invoke("create_first_admin", { name, passphrase });
}

/**
 * Sends one request. `onEvent` receives the request's events as they happen; the promise
 * resolves with the outcome (also sent as the last `answer` event).
 */
export function ask(
  text: string,
  mode: Mode,
  conversationId: string | null,
  onEvent: (event: AgentEvent) => void,
): Promise<AskOutcome> {
  const events = new Channel<AgentEvent>();
  events.onmessage = onEvent;
  return invoke<AskOutcome>("ask", { text, mode, conversationId, events });
}

/**
 * Runs one tool call the operator typed, without the model: the governor decides it like a
 * planned call (and runs it in execute mode when allowed). Events and outcome as for `ask`;
 * the call is a turn of `conversationId` when given, else it starts a new conversation.
 */
export function callTool(
  tool: string,
  args: Args,
  mode: Mode,
  conversationId: string | null,
  onEvent: (event: AgentEvent) => void,
): Promise<AskOutcome> {
  const events = new Channel<AgentEvent>();
  events.onmessage = onEvent;
  return invoke<AskOutcome>("call_tool", { tool, args, mode, conversationId, events });
}

/** Conversations, most recent first. */
export function listConversations(): Promise<ConversationSummary[]> {
  return invoke<ConversationSummary[]>("list_conversations");
}

/** The messages of one conversation, oldest first. */
export function conversationMessages(conversationId: string): Promise<StoredMessage[]> {
  return invoke<StoredMessage[]>("conversation_messages", { conversationId });
}

/** A cited passage with the text around it. */
export function openCitation(chunkId: number): Promise<OpenedChunk> {
  return invoke<OpenedChunk>("open_citation", { chunkId });
}

/** Pending approval requests, oldest first (expired ones are marked first). */
export function pendingApprovals(): Promise<PendingApproval[]> {
  return invoke<PendingApproval[]>("pending_approvals");
}

/** Approves a request: the approver proves who they are with their passphrase. */
export function approveRequest(
  id: string,
  account: string,
  passphrase: string,
  comment: string | null,
  onEvent: (event: AgentEvent) => void,
): Promise<ApprovalOutcome> {
  const events = new Channel<AgentEvent>();
  events.onmessage = onEvent;
  return invoke<ApprovalOutcome>("approve_request", { id, account, passphrase, comment, events });
}

/** Denies a request; a comment is required. */
export function denyRequest(
  id: string,
  account: string,
  passphrase: string,
  comment: string,
): Promise<ApprovalRecord> {
  return invoke<ApprovalRecord>("deny_request", { id, account, passphrase, comment });
}

/** Opens (or focuses) the admin window. */
export async function openAdminWindow(): Promise<void> {
  await invoke("open_admin_window");
}

// ---- admin window ----

/** Signs an admin in for this admin window; every admin command needs it. */
export function adminSignIn(account: string, passphrase: string): Promise<Approver> {
  return invoke<Approver>("admin_sign_in", { account, passphrase });
}

/** Signs the admin out. */
export async function adminSignOut(): Promise<void> {
  await invoke("admin_sign_out");
}

/** The editable files of the policy directory as they are in force. */
export function policyFiles(): Promise<PolicyFile[]> {
  return invoke<PolicyFile[]>("policy_files");
}

/** Checks an edit of one file against the whole policy, and diffs it. Nothing is written. */
export function reviewPolicy(file: string, text: string): Promise<PolicyReview> {
  return invoke<PolicyReview>("review_policy", { file, text });
}

/** Saves an edit when the whole policy stays valid; the governor reloads it; audited. */
export function savePolicy(file: string, text: string): Promise<PolicySaved> {
  return invoke<PolicySaved>("save_policy", { file, text });
}

/** Decides a call for a principal with the policy in force, without running it. */
export function playground(principal: string, tool: string, args: Args): Promise<Decision> {
  return invoke<Decision>("policy_playground", { principal, tool, args });
}

/** Runs the policy test tables (policy/tests/*.toml). */
export function runPolicyTests(): Promise<PolicyCaseResult[]> {
  return invoke<PolicyCaseResult[]>("run_policy_tests");
}

/** Audit events matching the filter, newest first. */
export function auditEvents(filter: AuditFilter): Promise<AuditRow[]> {
  return invoke<AuditRow[]>("audit_events", { filter });
}

/** Verifies the audit chain and its signed checkpoints. */
export function verifyAudit(): Promise<AuditReport> {
  return invoke<AuditReport>("verify_audit");
}

/**
 * Writes every audit row since `since` (all when null), hashes included, as JSON or CSV to a
 * file on the shell's side (the downloads folder); returns where and how many rows. Only
 * `since` narrows it: an auditor needs whole consecutive rows to check the hash chain.
 */
export function exportAudit(since: string | null, format: "json" | "csv"): Promise<ExportedAudit> {
  return invoke<ExportedAudit>("export_audit", { since, format });
}

/** The documents of the library, with their active version. */
export function listDocuments(): Promise<DocumentRow[]> {
  return invoke<DocumentRow[]>("list_documents");
}

/** Opens the shell's native file picker; the chosen paths, [] when cancelled. */
export function pickDocumentFiles(): Promise<string[]> {
  return invoke<string[]>("pick_document_files");
}

/**
 * Ingests files and folders (every document in a folder) with a classification and an
 * optional audience group (null: the shell's defaults). `onProgress` receives each step; the
 * promise resolves with one report per file.
 */
export function ingestDocuments(
  paths: string[],
  classification: Classification | null,
  audience: string | null,
  onProgress: (progress: IngestProgress) => void,
): Promise<IngestFileReport[]> {
  const events = new Channel<IngestProgress>();
  events.onmessage = onProgress;
  return invoke<IngestFileReport[]>("ingest_documents", { paths, classification, audience, events });
}

/** Re-embeds every document (a new version each); progress and reports as for ingesting. */
export function reindexDocuments(onProgress: (progress: IngestProgress) => void): Promise<IngestFileReport[]> {
  const events = new Channel<IngestProgress>();
  events.onmessage = onProgress;
  return invoke<IngestFileReport[]>("reindex_documents", { events });
}

/** Removes a document and its chunks; whether it existed. */
export function removeDocument(id: number): Promise<boolean> {
  return invoke<boolean>("remove_document", { id });
}

/** The model files, the loaded model, and what stops switching, if anything. */
export function listModels(): Promise<ModelsView> {
  return invoke<ModelsView>("list_models");
}

/** Hashes a model file and compares it with its published checksum (can take seconds). */
export function verifyModel(name: string): Promise<ChecksumStatus> {
  return invoke<ChecksumStatus>("verify_model", { name });
}

/** Verifies and loads another model; `onProgress` receives each stage. */
export function switchModel(name: string, onProgress: (progress: ModelLoadProgress) => void): Promise<LoadedModelView> {
  const events = new Channel<ModelLoadProgress>();
  events.onmessage = onProgress;
  return invoke<LoadedModelView>("switch_model", { name, events });
}

/** The named connections (settings and whether a secret is stored; never the secret). */
export function listConnections(): Promise<ConnectionView[]> {
  return invoke<ConnectionView[]>("list_connections");
}

/** Adds a connection: settings to the database, the secret to the OS keychain. */
export function addConnection(
  name: string,
  kind: ConnectionKind,
  settings: Record<string, string>,
  secret: string,
): Promise<ConnectionView> {
  return invoke<ConnectionView>("add_connection", { name, kind, settings, secret });
}

/** Connects with a stored connection's settings and secret. */
export function testConnection(name: string): Promise<ConnectionTest> {
  return invoke<ConnectionTest>("test_connection", { name });
}

/** Removes a connection and its secret; whether it existed. */
export function removeConnection(name: string): Promise<boolean> {
  return invoke<boolean>("remove_connection", { name });
}

/** The local accounts, and the roles the policy knows. */
export function listAccounts(): Promise<AccountsView> {
  return invoke<AccountsView>("list_accounts");
}

/** Adds a local account (the engine checks the name and passphrase again). */
export async function addAccount(name: string, roles: string[], passphrase: string): Promise<void> {
  await invoke("add_account", { name, roles, passphrase });
}

/** Removes a local account; whether it existed. */
export function removeAccount(name: string): Promise<boolean> {
  return invoke<boolean>("remove_account", { name });
}

/** Opens the system's file picker for an update bundle; null when cancelled. */
export function pickUpdateFile(): Promise<string | null> {
  return invoke<string | null>("pick_update_file");
}

/** Verifies an update bundle (signature, platform, newer version, package hash); installs nothing. */
export function verifyUpdate(path: string): Promise<UpdateView> {
  return invoke<UpdateView>("verify_update", { path });
}

/** Verifies the bundle again, then installs it (audited). */
export function applyUpdate(path: string): Promise<UpdateInstalled> {
  return invoke<UpdateInstalled>("apply_update", { path });
}
