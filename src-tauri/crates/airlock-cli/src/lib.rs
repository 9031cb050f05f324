//! `airlock`: the headless Airlock command line. A library so the installed desktop binary
//! can serve this role too (one binary in the package; see `airlock-desktop`'s `main`).

mod approvals;
mod ask;
mod audit;
mod batch;
mod compliance;
mod demo;
mod demo_sap;
mod docs;
mod doctor;
mod evidence;
mod mcp;
mod models;
mod paths;
mod policy;
mod sandbox;
mod sim;
mod subjects;
mod telemetry;
mod update;
mod vault;

use std::path::PathBuf;
use std::process::ExitCode;

use airlock_core::{Classification, Mode};
use airlock_rag::RetrievalMode;
use clap::{Parser, Subcommand};

pub use telemetry::init_logging;

/// Airlock: an air-gapped operations assistant. The local model proposes, Airlock decides,
/// and every step is recorded.
#[derive(Parser)]
#[command(name = "airlock", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Directory of Airlock's database (default: the platform data directory, or
    /// $AIRLOCK_DATA_DIR).
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Directory searched for models (default: the nearest models/ with a manifest.toml, or
    /// $AIRLOCK_MODELS_DIR).
    #[arg(long, global = true, value_name = "DIR")]
    models_dir: Option<PathBuf>,
    /// A GGUF model to use instead of the most preferred one in the models directory.
    #[arg(long, global = true, value_name = "PATH")]
    model: Option<PathBuf>,
    /// The simulator fixtures (default: the nearest fixtures/ with a status.json, or
    /// $AIRLOCK_FIXTURES_DIR).
    #[arg(long, global = true, value_name = "DIR")]
    fixtures_dir: Option<PathBuf>,
    /// The policy directory: Cedar policies and schema, principals.toml, guards.toml, tests/
    /// (default: the nearest policy/ with a guards.toml, or $AIRLOCK_POLICY_DIR).
    #[arg(long, global = true, value_name = "DIR")]
    policy_dir: Option<PathBuf>,
    /// Tool preselection: the planner's grammar allows only the K tools most similar to the
    /// request, plus the status read; 0, the default, allows every tool (`make eval-planner`
    /// measures both).
    #[arg(long, global = true, value_name = "K", default_value_t = 0)]
    preselect: usize,
    /// How the planner picks its tools: `scored` (the default) scores every tool's name with
    /// the model plus its similarity to the request, then writes the chosen call's
    /// arguments; `greedy` lets the model pick token by token as it writes the plan.
    #[arg(long, global = true, value_name = "HOW", default_value = "scored")]
    tool_choice: ToolChoiceArg,
}

/// The planner's way of picking tools (`--tool-choice`).
#[derive(Clone, Copy, clap::ValueEnum)]
enum ToolChoiceArg {
    Scored,
    Greedy,
}

#[derive(Subcommand)]
enum Command {
    /// Ask Airlock something. The text comes from the argument, or from stdin when it is
    /// missing or `-`.
    Ask {
        /// The request.
        text: Option<String>,
        /// Continue this conversation (its id is printed after each answer): a reply to a
        /// question Airlock asked, or a follow-up that sees the last turns.
        #[arg(long, value_name = "ID")]
        conversation: Option<String>,
        /// `plan` shows what would run and runs nothing; `execute` runs what may run.
        #[arg(long, default_value = "plan")]
        mode: Mode,
        /// Print the outcome as one JSON object on stdout (progress goes to stderr).
        #[arg(long)]
        json: bool,
        /// Print every event of the request as one JSON line on stdout (decisions, approval
        /// requests, tool output, answer tokens; the outcome last), for programs and the UI.
        #[arg(long, conflicts_with = "json")]
        events: bool,
    },
    /// Decide one tool call typed by you (no model) and, in execute mode, run it if allowed;
    /// or a plan of calls from a file (`--plan`), run in order until one fails. Recorded like
    /// any request.
    Call {
        /// The tool, e.g. run_command.
        #[arg(required_unless_present = "plan")]
        tool: Option<String>,
        /// Its arguments as a JSON object.
        #[arg(long, default_value = "{}")]
        args: String,
        /// A JSON file (or `-` for stdin) holding a list of calls:
        /// `[{"tool": "...", "args": {...}}, ...]`.
        #[arg(long, value_name = "FILE", conflicts_with_all = ["tool"])]
        plan: Option<PathBuf>,
        /// `plan` shows the governor's decision and runs nothing; `execute` runs what may run.
        #[arg(long, default_value = "plan")]
        mode: Mode,
        /// Print the outcome as one JSON object on stdout (progress goes to stderr).
        #[arg(long)]
        json: bool,
        /// Print every event as one JSON line on stdout (see `ask --events`).
        #[arg(long, conflicts_with = "json")]
        events: bool,
    },
    /// Undo a completed write (SAP, MES) from the compensation it recorded. The undo is
    /// decided by the governor like any call: it usually needs approval.
    Rollback {
        /// The decision id of the write (shown in its plan and in the audit log).
        decision_id: String,
        /// `plan` shows the governor's decision on the undo; `execute` runs it if allowed.
        #[arg(long, default_value = "plan")]
        mode: Mode,
        /// Print the outcome as one JSON object on stdout (progress goes to stderr).
        #[arg(long)]
        json: bool,
    },
    /// Run the demo scenarios through the real model and print a table.
    Demo {
        /// Directory of scenario files (default: fixtures/scenarios).
        #[arg(long, value_name = "DIR")]
        scenarios: Option<PathBuf>,
        /// Exit non-zero when a scenario fails.
        #[arg(long)]
        strict: bool,
        /// Run every scenario this many times, each round in a fresh data directory; the
        /// latency table then shows the medians.
        #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=20))]
        repeat: u16,
    },
    /// Check every part Airlock runs on: the models and their checksums, the Docker engine
    /// and the sandbox image, the keychain, the policy, the audit log and the admin account.
    /// Exits non-zero when a part fails.
    Doctor {
        /// Print the checks as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show the models present and which one is used.
    Models,
    /// Check, evaluate and test the governor's policy.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Verify and export the tamper-evident audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// The Docker sandbox that runs `run_command`.
    #[command(subcommand)]
    Sandbox(SandboxCommand),
    /// Named SAP and MES connections: settings in the database, secrets in the OS keychain.
    #[command(subcommand)]
    Vault(VaultCommand),
    /// Calls waiting for a human: list, show, approve, deny. Approvers sign in with a local
    /// account (`airlock users`).
    #[command(subcommand)]
    Approvals(ApprovalsCommand),
    /// Local accounts approvers sign in with (argon2id passphrases in the database).
    #[command(subcommand)]
    Users(UsersCommand),
    /// The plant's documents that `ask` searches: add, list, remove, reindex, search, show.
    #[command(subcommand)]
    Docs(DocsCommand),
    /// Drills on the simulated plant: inject a fault, reset to the fixtures' snapshot.
    #[command(subcommand)]
    Sim(SimCommand),
    /// The Model Context Protocol: serve Airlock's governed tools to another MCP client.
    #[command(subcommand)]
    Mcp(McpCommand),
    /// Offline updates: a signed .airlock-update bundle (carried on USB) verified against the
    /// update key installed with Airlock, then installed.
    #[command(subcommand)]
    Update(UpdateCommand),
    /// Decide a file of requests from several people in one run (JSON array or JSON Lines of
    /// {id, user, role, department, groups, text[, calls]}): one decision per intent of each
    /// request, and a summary. The file's identities are trusted only when an admin signs in
    /// (--as); otherwise every request is decided as you.
    Batch {
        /// The batch file (`-`: stdin).
        #[arg(long, value_name = "FILE")]
        input: PathBuf,
        /// Write the decisions here (default: stdout).
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// `plan` decides and runs nothing; `execute` runs the approved calls and queues the
        /// rest for approval.
        #[arg(long, default_value = "plan")]
        mode: Mode,
        /// The admin who vouches for the file's identities (their passphrase is asked).
        #[arg(long = "as", value_name = "ADMIN")]
        admin: Option<String>,
    },
    /// Request traces: the span tree of one request with its timings (kept as OTLP/JSON in
    /// the data directory's traces/).
    #[command(subcommand)]
    Trace(telemetry::TraceCommand),
    /// The counters and histograms (requests, decisions by outcome and rule, approvals, tool
    /// latency, tokens/s, sandbox runs, errors) in the Prometheus text format.
    Metrics {
        /// Print the underlying counts as JSON instead.
        #[arg(long)]
        json: bool,
    },
    /// Evidence for auditors (a signed package of the audit log, policies and approvals) and
    /// the data-protection requests of one person (export, erasure).
    #[command(subcommand)]
    Compliance(compliance::ComplianceCommand),
}

#[derive(Subcommand)]
enum UpdateCommand {
    /// Check a bundle: its signature by the installed update key, that it is Airlock for this
    /// platform and newer than this one, and its package's SHA-256. Installs nothing; exit 1
    /// when it is refused.
    Verify {
        /// The .airlock-update file.
        file: PathBuf,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Verify a bundle, then install its package (dpkg, through pkexec unless run as root).
    Apply {
        /// The .airlock-update file.
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum McpCommand {
    /// Serve the governed tools on stdin/stdout, as the OS user that starts it: every call is
    /// decided by the governor in execute mode, waits for approval when the policy says so,
    /// and is recorded.
    Serve,
}

#[derive(Subcommand)]
enum SimCommand {
    /// Put one subsystem of `airlock`'s system status down (or degraded) until it is restarted.
    Fault {
        /// The subsystem, as the system status names it (e.g. labelprintd).
        service: String,
        /// `down` or `degraded`.
        #[arg(long, default_value = "down")]
        state: String,
        /// What the status shows about it.
        #[arg(long, default_value = "stopped: injected fault (drill)")]
        detail: String,
    },
    /// Forget injected faults and restarts: the status is the fixtures' snapshot again.
    Reset,
}

#[derive(Subcommand)]
enum DocsCommand {
    /// Add files or directories (.txt, .md, .pdf, .docx, .csv). Unchanged files are skipped,
    /// changed ones replace their previous version; a bad file is reported and the rest go on.
    Add {
        /// Files or directories (searched recursively).
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Who may retrieve them: public, internal (default), confidential or restricted.
        #[arg(long, value_parser = docs::classification)]
        classification: Option<Classification>,
        /// A group that may retrieve them whatever its members' clearance.
        #[arg(long)]
        audience: Option<String>,
        /// The title shown in citations (default: the file name).
        #[arg(long)]
        title: Option<String>,
        /// A labels file (TOML, [[document]] and [[rendition]] entries) whose titles,
        /// classifications and metadata win over the options above.
        #[arg(long, value_name = "FILE")]
        labels: Option<PathBuf>,
        /// Print the results as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List the documents.
    List {
        /// Print them as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Remove a document and its chunks from the library.
    Remove {
        /// The document's id (see `docs list`).
        id: i64,
    },
    /// Index every document again from its source file (after a model or chunking change).
    Reindex {
        /// Print the results as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Search the documents you may read.
    Search {
        /// The question or keywords.
        query: String,
        /// hybrid (default), vector or keyword.
        #[arg(long, default_value = "hybrid", value_parser = docs::mode)]
        mode: RetrievalMode,
        /// How many chunks to show.
        #[arg(short = 'k', long, default_value_t = 5)]
        top_k: usize,
        /// Print the results as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Open a cited chunk with the text around it.
    Show {
        /// The chunk's id (in an answer's sources).
        chunk_id: i64,
        /// Bytes of context shown on each side.
        #[arg(long, default_value_t = 400)]
        context: usize,
        /// Print it as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum ApprovalsCommand {
    /// The pending requests (all with --all).
    List {
        /// Also approved, denied, expired, executed and failed ones.
        #[arg(long)]
        all: bool,
        /// Print them as JSON.
        #[arg(long)]
        json: bool,
    },
    /// One request: the exact call with every argument, who asked, risk, the governor's trace.
    Show {
        /// The request's id.
        id: String,
        /// Print it as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Approve a request and run the call. The passphrase is read from a prompt (or stdin).
    Approve {
        /// The request's id.
        id: String,
        /// The approver's local account.
        #[arg(long = "as", value_name = "NAME")]
        approver: String,
        /// Why.
        #[arg(long)]
        comment: Option<String>,
        /// Print the outcome as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Deny a request: it never runs.
    Deny {
        /// The request's id.
        id: String,
        /// The approver's local account.
        #[arg(long = "as", value_name = "NAME")]
        approver: String,
        /// Why (recorded in the audit log).
        #[arg(long)]
        comment: String,
        /// Print the outcome as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum UsersCommand {
    /// Add a local account. The first must have --role admin; later ones need an admin's
    /// sign-in (--as). Passphrases come from prompts, or stdin lines (the admin's first).
    Add {
        /// The account name.
        name: String,
        /// A role or approver group, e.g. admin, plant-managers; repeatable.
        #[arg(long = "role", value_name = "ROLE")]
        roles: Vec<String>,
        /// The admin account that authorises this.
        #[arg(long = "as", value_name = "ADMIN")]
        admin: Option<String>,
    },
    /// The local accounts, their roles and locks.
    List {
        /// Print them as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Remove a local account (an admin signs in with --as).
    Remove {
        /// The account name.
        name: String,
        /// The admin account that authorises this.
        #[arg(long = "as", value_name = "ADMIN")]
        admin: String,
    },
}

#[derive(Subcommand)]
enum VaultCommand {
    /// Add or replace a connection. The secret is read from a prompt (or stdin's first line),
    /// never from the command line.
    Add(vault::NewConnection),
    /// List the connections and where each secret is.
    List,
    /// Remove a connection and its secret.
    Remove {
        /// The connection.
        name: String,
    },
    /// Check that the secret is there and the system answers with it.
    Test {
        /// The connection.
        name: String,
    },
}

#[derive(Subcommand)]
enum SandboxCommand {
    /// Check the engine (reachable, version, runtimes), build the image if needed and run a
    /// self-test command in the sandbox. Exit 1 when any step fails.
    Doctor {
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write the sandbox image (a root filesystem tar built from the host's busybox-static)
    /// to a file, for an installer to ship; the installed app imports it when the engine
    /// lacks it.
    ExportImage {
        /// Where to write the tar.
        #[arg(long)]
        out: std::path::PathBuf,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Verify the hash chain and the signed checkpoints; report the first bad row (exit 1).
    Verify {
        /// Verify this database file (a copy) instead of the data directory's, read-only.
        #[arg(long, value_name = "FILE")]
        database: Option<PathBuf>,
        /// Also trust checkpoints signed by this Ed25519 public key (hex); repeatable.
        #[arg(long = "public-key", value_name = "HEX")]
        public_keys: Vec<String>,
    },
    /// Write the audit rows as JSON or CSV to stdout.
    Export {
        /// `json` or `csv`.
        #[arg(long, default_value = "json")]
        format: String,
        /// Only rows at or after this RFC 3339 time, e.g. 2026-11-01T00:00:00Z.
        #[arg(long)]
        since: Option<String>,
    },
}

#[derive(Subcommand)]
enum PolicyCommand {
    /// Parse and validate the Cedar policies against the schema, principals.toml and
    /// guards.toml; print every problem with its file and line.
    Check,
    /// Decide one call without running it and print the decision with its full trace.
    /// Exit code: 0 allow, 3 deny, 4 approval, 5 clarify.
    Eval {
        /// The principal: an OS login name or an agent profile.
        #[arg(long = "as", value_name = "PRINCIPAL")]
        principal: String,
        /// The tool.
        #[arg(long)]
        tool: String,
        /// The arguments as a JSON object.
        #[arg(long, default_value = "{}")]
        args: String,
        /// Circumstances as a JSON object: session, request, confidence, tainted, spent_cents,
        /// now.
        #[arg(long)]
        context: Option<String>,
        /// Print the decision as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Run the table-driven cases in the policy directory's tests/*.toml.
    Test,
}

/// Runs the command line on this process's arguments: parses them, serves the command and
/// returns the exit code. Serves the model worker or document extractor role instead when the
/// process was started as one.
#[must_use]
pub fn run() -> ExitCode {
    if let Some(code) = airlock_agent::serve_worker_if_requested() {
        return ExitCode::from(u8::try_from(code).unwrap_or(1));
    }
    let cli = Cli::parse();
    let paths = paths::Paths::resolve(&cli);
    let _traces = init_logging(
        &paths.data_dir,
        tracing_subscriber::EnvFilter::try_from_env("AIRLOCK_LOG")
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
    );
    let result = match cli.command {
        Command::Ask {
            text,
            conversation,
            mode,
            json,
            events,
        } => ask::run(
            &paths,
            text.as_deref(),
            conversation.as_deref(),
            mode,
            ask::Output::chosen(json, events),
        ),
        Command::Call {
            tool,
            args,
            plan,
            mode,
            json,
            events,
        } => match (tool, plan) {
            (_, Some(plan)) => {
                ask::call_plan(&paths, &plan, mode, ask::Output::chosen(json, events))
            }
            (Some(tool), None) => ask::call(
                &paths,
                &tool,
                &args,
                mode,
                ask::Output::chosen(json, events),
            ),
            (None, None) => unreachable!("clap requires a tool or --plan"),
        },
        Command::Rollback {
            decision_id,
            mode,
            json,
        } => ask::rollback(&paths, &decision_id, mode, json),
        Command::Demo {
            scenarios,
            strict,
            repeat,
        } => demo::run(&paths, scenarios, strict, usize::from(repeat)),
        Command::Doctor { json } => doctor::run(&paths, json),
        Command::Models => models::run(&paths),
        Command::Policy(PolicyCommand::Check) => policy::check(&paths),
        Command::Policy(PolicyCommand::Eval {
            principal,
            tool,
            args,
            context,
            json,
        }) => policy::eval(&paths, &principal, &tool, &args, context.as_deref(), json),
        Command::Policy(PolicyCommand::Test) => policy::test(&paths),
        Command::Audit(AuditCommand::Verify {
            database,
            public_keys,
        }) => audit::verify(&paths, database.as_deref(), &public_keys),
        Command::Audit(AuditCommand::Export { format, since }) => {
            audit::export(&paths, &format, since.as_deref())
        }
        Command::Sandbox(SandboxCommand::Doctor { json }) => sandbox::doctor(&paths, json),
        Command::Sandbox(SandboxCommand::ExportImage { out }) => {
            sandbox::export_image(&paths, &out)
        }
        Command::Vault(VaultCommand::Add(new)) => vault::add(&paths, new),
        Command::Vault(VaultCommand::List) => vault::list(&paths),
        Command::Approvals(ApprovalsCommand::List { all, json }) => {
            approvals::list(&paths, all, json)
        }
        Command::Approvals(ApprovalsCommand::Show { id, json }) => {
            approvals::show(&paths, &id, json)
        }
        Command::Approvals(ApprovalsCommand::Approve {
            id,
            approver,
            comment,
            json,
        }) => approvals::approve(&paths, &id, &approver, comment.as_deref(), json),
        Command::Approvals(ApprovalsCommand::Deny {
            id,
            approver,
            comment,
            json,
        }) => approvals::deny(&paths, &id, &approver, &comment, json),
        Command::Users(UsersCommand::Add { name, roles, admin }) => {
            approvals::add_user(&paths, &name, &roles, admin.as_deref())
        }
        Command::Users(UsersCommand::List { json }) => approvals::list_users(&paths, json),
        Command::Users(UsersCommand::Remove { name, admin }) => {
            approvals::remove_user(&paths, &name, &admin)
        }
        Command::Sim(SimCommand::Fault {
            service,
            state,
            detail,
        }) => sim::fault(&paths, &service, &state, &detail),
        Command::Sim(SimCommand::Reset) => sim::reset(&paths),
        Command::Mcp(McpCommand::Serve) => mcp::serve(&paths),
        Command::Update(UpdateCommand::Verify { file, json }) => {
            update::verify(&paths, &file, json)
        }
        Command::Update(UpdateCommand::Apply { file }) => update::apply(&paths, &file),
        Command::Batch {
            input,
            output,
            mode,
            admin,
        } => batch::run(&paths, &input, output.as_deref(), mode, admin.as_deref()),
        Command::Trace(command) => telemetry::trace(&paths, command),
        Command::Metrics { json } => telemetry::metrics(&paths, json),
        Command::Compliance(command) => compliance::run(&paths, command),
        Command::Vault(VaultCommand::Remove { name }) => vault::remove(&paths, &name),
        Command::Vault(VaultCommand::Test { name }) => vault::test(&paths, &name),
        Command::Docs(DocsCommand::Add {
            paths: files,
            classification,
            audience,
            title,
            labels,
            json,
        }) => docs::add(
            &paths,
            &files,
            &airlock_agent::AddOptions {
                classification,
                audience,
                title,
                labels,
            },
            json,
        ),
        Command::Docs(DocsCommand::List { json }) => docs::list(&paths, json),
        Command::Docs(DocsCommand::Remove { id }) => docs::remove(&paths, id),
        Command::Docs(DocsCommand::Reindex { json }) => docs::reindex(&paths, json),
        Command::Docs(DocsCommand::Search {
            query,
            mode,
            top_k,
            json,
        }) => docs::search(&paths, &query, mode, top_k, json),
        Command::Docs(DocsCommand::Show {
            chunk_id,
            context,
            json,
        }) => docs::show(&paths, chunk_id, context, json),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}
