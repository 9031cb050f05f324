// The shapes the desktop shell sends and receives. Each mirrors a Rust type's serde form
// (named in its doc comment); keep them in step with the engine.

/** `airlock_core::Mode`. */
export type Mode = "plan" | "execute";

/** `airlock_core::Confidence`. */
export type Confidence = "low" | "medium" | "high";

/** `airlock_policy::Risk`. */
export type Risk = "low" | "medium" | "high" | "critical";

/** `airlock_policy::Layer`. */
export type Layer =
  | "identity"
  | "allowlist"
  | "authorization"
  | "rate_limit"
  | "parameters"
  | "injection"
  | "taint"
  | "business_guards"
  | "budget"
  | "sequence"
  | "clarification";

/** `airlock_policy::Verdict`. */
export type Verdict = "pass" | "warn" | "approval" | "deny" | "clarify";

/** `airlock_policy::Step`: one governor layer's result. */
export interface Step {
  layer: Layer;
  verdict: Verdict;
  detail: string;
  rules: string[];
  risk: Risk;
}

/** `airlock_policy::Outcome`, flattened into a decision (tag `decision`). */
export type Outcome =
  | { decision: "allow" }
  | { decision: "deny"; reason: string }
  | { decision: "require_approval"; approver_group: string; reason: string }
  | { decision: "clarify"; questions: string[] };

/** `airlock_policy::Decision`. */
export type Decision = Outcome & {
  id: string;
  risk: Risk;
  deciding_rule: string | null;
  trace: Step[];
};

/** JSON arguments of a tool call. */
export type Args = Record<string, unknown>;

/** `airlock_agent::PlannedIntent`: a proposed call with the governor's decision. */
export interface PlannedIntent {
  tool: string;
  args: Args;
  reasoning: string;
  confidence: Confidence;
  decision: Decision;
  approval_id?: string;
}

/** `airlock_agent::Action`: a call that ran. */
export interface Action {
  tool: string;
  decision_id: string;
  args: Args;
  result: unknown;
  error: string | null;
  duration_ms: number;
}

/** `airlock_rag::Passage`: a document passage an answer is grounded on. */
export interface Passage {
  chunk_id: number;
  citation: string;
  quote: string;
  text: string;
  score: number;
  similarity: number | null;
}

/** `airlock_agent::Compensation`. */
export interface Compensation {
  decision_id: string;
  tool: string;
  undo: { tool: string; args: Args };
}

/** `airlock_agent::PlanStop`. */
export interface PlanStop {
  failed: string;
  error: string;
  skipped: string[];
  compensations: Compensation[];
}

/** `airlock_agent::Timings`. */
export interface Timings {
  total_ms: number;
  model_ms: number;
  governor_ms: number;
  tools_ms: number;
}

/** `airlock_agent::AskOutcome`: the result of one request. */
export interface AskOutcome {
  answer: string;
  admission: Decision;
  plan: PlannedIntent[];
  actions_taken: Action[];
  sources: Passage[];
  plan_stopped?: PlanStop;
  audit: { trace_id: string; mode: Mode; conversation_id: string };
  timings: Timings;
}

/** `airlock_agent::AgentEvent`: one step of a request as it happens (tag `event`). */
export type AgentEvent =
  | { event: "model_loading" }
  | { event: "model_ready"; description: string; load_ms: number }
  | { event: "plan_token"; text: string }
  | { event: "plan_proposed"; plan: PlannedIntent[] }
  | { event: "decision"; intent: PlannedIntent }
  | {
      event: "approval_requested";
      approval_id: string;
      tool: string;
      args: Args;
      approver_group: string;
    }
  | { event: "tool_started"; tool: string; args: Args }
  | { event: "tool_output"; stream: "stdout" | "stderr"; text: string }
  | { event: "tool_finished"; action: Action }
  | { event: "token"; text: string }
  | { event: "answer"; outcome: AskOutcome }
  | { event: "error"; message: string };

/** `airlock_store::ApprovalStatus`. */
export type ApprovalStatus = "pending" | "approved" | "denied" | "expired" | "executed" | "failed";

/** `airlock_store::ApprovalRecord`: a call that waits (or waited) for a human. */
export interface ApprovalRecord {
  id: string;
  trace_id: string;
  conversation_id: string;
  requester: string;
  tool: string;
  args: Args;
  decision: Decision;
  approver_group: string;
  risk: Risk;
  reason: string;
  status: ApprovalStatus;
  created_at: string;
  expires_at: string;
  decided_by: string | null;
  decided_at: string | null;
  comment: string | null;
  finished_at: string | null;
  result: unknown;
}

/** `airlock_agent::ToolTarget` as the approval card shows it. */
export interface ToolTarget {
  system: string | null;
  kind: string;
  environment: string | null;
  classification: string;
}

/** `airlock_agent::PendingApproval`: an approval request with its target system. */
export interface PendingApproval {
  approval: ApprovalRecord;
  target: ToolTarget | null;
}

/** `airlock_agent::ApprovalOutcome`: what approving did. */
export interface ApprovalOutcome {
  approval: ApprovalRecord;
  action: Action | null;
}

/** One part's health (`airlock_agent::PartStatus`). */
export interface PartStatus {
  ok: boolean;
  /** What was found, or what is wrong and what to do. */
  detail: string;
}

/** `airlock_agent::AppStatus`: the status bar's facts. */
export interface AppStatus {
  principal: string;
  model: PartStatus & { name: string | null };
  docker: PartStatus;
  keychain: PartStatus;
  read_only: boolean;
  data_dir: string;
}

/** How one part fared in the check-up (`airlock_agent::CheckStatus`). */
export type CheckStatus = "ok" | "warn" | "fail";

/** One part's check (`airlock_agent::Check`). */
export interface Check {
  name: string;
  status: CheckStatus;
  /** What was found, or what is wrong and what to do. */
  detail: string;
}

/** `airlock_agent::Checkup`: every part Airlock runs on, as `airlock doctor` prints it. */
export interface Checkup {
  /** No part failed (warnings allowed). */
  ok: boolean;
  /** No account holds the admin role yet. */
  needs_admin: boolean;
  checks: Check[];
}

/** `airlock_store::ConversationSummary`. */
export interface ConversationSummary {
  id: string;
  title: string;
  created_at: string;
  updated_at: string;
  messages: number;
}

/** `airlock_store::StoredMessage`: `role` is "user" or "assistant". */
export interface StoredMessage {
  role: string;
  content: string;
  trace_id: string | null;
  created_at: string;
}

/** `airlock_store::OpenedChunk`: a cited passage with the text around it. */
export interface OpenedChunk {
  chunk: {
    chunk_id: number;
    document_id: number;
    title: string;
    page: number | null;
    section: string | null;
    text: string;
    classification: string;
  };
  before: string;
  after: string;
}

/** `airlock_agent::Approver`: who signed in. */
export interface Approver {
  name: string;
  roles: string[];
}

/** `airlock_policy::Problem`: one problem in one policy file. */
export interface PolicyProblem {
  file: string;
  line: number | null;
  message: string;
}

/** `airlock_agent::PolicyFile`: one editable file of the policy directory. */
export interface PolicyFile {
  name: string;
  /** "cedar", "cedarschema" or "toml" (the editor's language). */
  language: "cedar" | "cedarschema" | "toml";
  text: string;
}

/** `airlock_agent::PolicyReview`: what saving an edit would do. */
export interface PolicyReview {
  problems: PolicyProblem[];
  /** A unified diff of the file against what is in force. */
  diff: string;
}

/** `airlock_agent::PolicySaved`. */
export interface PolicySaved {
  file: string;
  diff: string;
  sha256: string;
}

/** `airlock_policy::cases::CaseResult`, flattened for display. */
export interface PolicyCaseResult {
  file: string;
  name: string;
  passed: boolean;
  expected: string;
  got: string;
}

/** Filters of the audit viewer (`airlock_agent::AuditFilter`); all optional. */
export interface AuditFilter {
  principal?: string;
  tool?: string;
  decision?: "allow" | "deny" | "require_approval" | "clarify";
  risk?: Risk;
  since?: string;
  until?: string;
  limit?: number;
}

/** `airlock_agent::AuditRow`: one event of the audit chain. */
export interface AuditRow {
  seq: number;
  at: string;
  kind: string;
  trace_id: string;
  principal: string | null;
  tool: string | null;
  decision: string | null;
  risk: Risk | null;
  payload: unknown;
}

/** `airlock_agent::ExportedAudit`: where an audit export was written. */
export interface ExportedAudit {
  /** The file, on the machine the shell runs on. */
  path: string;
  /** How many rows it holds. */
  rows: number;
}

/** `airlock_store::AuditReport`: the chain verification's result. */
export interface AuditReport {
  rows_checked: number;
  checkpoints_checked: number;
  last_seq: number | null;
  last_checkpointed_seq: number | null;
  first_problem: { seq: number; kind: string; detail: string } | null;
}

// ---- admin window: documents, models, credentials, users ----

/** `airlock_core::Classification`: how sensitive a document is, least first. */
export type Classification = "public" | "internal" | "confidential" | "restricted";

/** `airlock_store::DocumentSummary`. */
export interface DocumentRow {
  id: number;
  title: string;
  source: string;
  format: string;
  classification: Classification;
  /** The group that may read it besides cleared readers (empty: none). */
  audience: string;
  metadata: unknown;
  version: number | null;
  chunks: number;
  pages: number | null;
  content_hash: string | null;
  /** A version is being ingested (an interrupted ingest, until it resumes). */
  ingesting: boolean;
  updated_at: string;
}

/** One step of an ingest or reindex (tag `kind`). */
export type IngestProgress =
  /** File `index` (0-based) of `files` starts. */
  | { kind: "file"; index: number; files: number; path: string }
  /** Chunks of the current file embedded so far; `eta_ms` is for the whole batch. */
  | { kind: "chunks"; done: number; total: number; eta_ms: number | null }
  /** One file finished. */
  | { kind: "finished"; path: string; ok: boolean; detail: string };

/** What ingesting one file did. */
export interface IngestFileReport {
  path: string;
  ok: boolean;
  detail: string;
}

/** A model file's checksum check (tag `state`). */
export type ChecksumStatus =
  | { state: "unchecked" }
  | { state: "valid"; sha256: string }
  | { state: "mismatch"; expected: string; actual: string }
  /** A user-provided model: no published checksum to compare with. */
  | { state: "unlisted"; sha256: string };

/** One model file of the models directory. */
export interface ModelEntry {
  name: string;
  path: string;
  size_bytes: number;
  source: "manifest" | "user";
  checksum: ChecksumStatus;
  active: boolean;
}

/** The model the worker has loaded. */
export interface LoadedModelView {
  name: string;
  description: string;
  n_ctx: number;
  load_ms: number;
}

/** The models tab's facts. */
export interface ModelsView {
  models_dir: string;
  models: ModelEntry[];
  loaded: LoadedModelView | null;
  /** Why the model cannot be switched here (the deployment pins it), if so. */
  pinned_reason: string | null;
  /** What is wrong with the model set-up and what to do, if anything. */
  problem: string | null;
}

/** One stage of switching models (tag `stage`). */
export type ModelLoadProgress =
  | { stage: "verifying"; detail: string }
  | { stage: "loading"; detail: string }
  | { stage: "loaded"; model: LoadedModelView };

/** The kinds of connection the vault knows. */
export type ConnectionKind = "sap" | "mes";

/** A named connection: its settings, and whether its secret is in the keychain (never the secret). */
export interface ConnectionView {
  name: string;
  kind: ConnectionKind;
  settings: Record<string, string>;
  secret_stored: boolean;
  secret_detail: string;
}

/** What testing a connection found. */
export interface ConnectionTest {
  ok: boolean;
  detail: string;
}

/** A local (approver or admin) account. */
export interface LocalAccount {
  name: string;
  roles: string[];
  failed_attempts: number;
  locked_until: string | null;
  created_at: string;
}

/** The accounts, and the roles and approver groups the policy knows (suggestions). */
export interface AccountsView {
  accounts: LocalAccount[];
  roles: string[];
}

/** `airlock_update::Manifest`: what a signed update bundle installs. */
export interface UpdateManifest {
  format: number;
  product: string;
  version: string;
  target: string;
  notes: string;
  created: string;
  payload: { name: string; sha256: string; size: number };
}

/** `airlock_agent::UpdateView`: a bundle that verified. */
export interface UpdateView {
  current_version: string;
  manifest: UpdateManifest;
  /** Signed: who made the bundle and when. */
  trusted_comment: string;
  key_id: string;
}

/** `airlock_agent::UpdateInstalled`. */
export interface UpdateInstalled {
  version: string;
  command: string;
  output: string;
}
