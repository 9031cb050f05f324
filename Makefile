# Airlock: one command per job. Every target runs `setup` first, which installs what is
# missing (Debian packages, Docker engine, models, UI packages) and does nothing otherwise.

SHELL := /bin/bash
CARGO ?= cargo
TARGET_DIR := $(or $(CARGO_TARGET_DIR),$(CURDIR)/target)
AIRLOCK := $(TARGET_DIR)/debug/airlock
# Always build the whole workspace: building one package alone unifies build-dependency
# features differently (tauri-build's) and would compile llama.cpp a second time.
BUILD := $(CARGO) build --workspace
UI_SOURCES := $(shell find ui/src ui/index.html ui/admin.html ui/package-lock.json ui/vite.config.ts ui/tsconfig.json -type f 2>/dev/null)

.PHONY: setup models-recommended ui build run demo test lint test-ui test-rust test-scripts bench bench-governor bench-sandbox bench-connectors bench-embed bench-rag bench-desktop eval-citations eval-planner fuzz bundle airgap-test install-test help

help:
	@echo "make setup   install what is missing (packages, Docker engine, models, UI deps)"
	@echo "make run     open the desktop window"
	@echo "make demo    run the demo scenarios through the real model (headless)"
	@echo "make test    formatting, lints, UI checks and every test"
	@echo "make bench   governor, audit chain, sandbox, connectors, embedding, retrieval, desktop start-up and model benchmarks"
	@echo "make fuzz    fuzz the policy guards (FUZZ_SECONDS=60 per target)"
	@echo "make bundle  the signed .deb in dist/ (installers/README.md)"
	@echo "make airgap-test  the demo and the desktop test with no network, every socket logged and checked"
	@echo "make install-test  the .deb from make bundle installed into a clean Debian root, checked, purged"

setup:
	@bash scripts/setup.sh

models-recommended:
	@python3 scripts/fetch_models.py --recommended

ui/dist/index.html: $(UI_SOURCES)
	cd ui && npm run build

ui: ui/dist/index.html

build: setup ui
	$(BUILD)

run: setup ui
	@if [ -z "$${DISPLAY:-}$${WAYLAND_DISPLAY:-}" ]; then \
		echo "make run: no graphical display (DISPLAY and WAYLAND_DISPLAY are unset)."; \
		echo "Run 'make demo' for the headless demo, or 'xvfb-run -a make run' for a virtual display."; \
		exit 2; \
	fi
	$(BUILD)
	$(TARGET_DIR)/debug/airlock-desktop

demo: setup models-recommended ui
	$(BUILD)
	$(AIRLOCK) demo

# The signed Linux package (.deb with the default models, policy, fixtures and sandbox image)
# in dist/, with SHA256SUMS, its minisign signature and a GPG signature per .deb. `npm install`,
# not `npm ci`: the lock holds only the CLI platform packages this registry serves.
bundle: setup ui
	$(CARGO) build --release --workspace
	npm install --prefix installers --no-audit --no-fund --loglevel=error
	bash installers/bundle

# The .deb installed into a clean Debian 12 root (debootstrap, cached), `airlock doctor` and
# a demo scenario run there from the installed files as a user, then purged: nothing may be
# left outside the user's data directory (installers/README.md, "Install test").
install-test: bundle
	bash installers/install-test "$$(ls dist/Airlock_*_amd64.deb | head -n 1)"

# The headless demo and the desktop end-to-end test in a network namespace with loopback only,
# every socket they open logged by strace and checked (loopback and Unix only).
airgap-test: setup models-recommended ui
	$(LINTED) $(BUILD) --all-targets
	bash installers/airgap-test $(AIRLOCK) "$$($(LINTED) $(CARGO) test --workspace --test e2e_desktop --no-run --message-format=json 2>/dev/null | python3 installers/test_binary.py e2e_desktop)"

lint: ui
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

test-ui:
	cd ui && npm run lint && npm run typecheck && npm test

test-scripts:
	python3 -m unittest discover -s scripts -p 'test_*.py'
	bash -n scripts/*.sh
	npm install --prefix installers --no-audit --no-fund --loglevel=error
	python3 -m unittest discover -s installers/tests -p 'test_*.py'
	bash installers/tests/verify_test.sh
	shellcheck installers/bundle installers/appimage installers/airgap-test installers/install-test \
		installers/keys.sh installers/make-update installers/sign installers/verify installers/linux/airlock \
		installers/tests/*.sh

# `make test` lints while it builds: clippy-driver compiles our crates (the workspace wrapper,
# with the arguments `cargo clippy -- -D warnings` would give it), so the tests' build is also
# the clippy run and nothing is compiled twice. Every target is built first, binaries included:
# the desktop test runs `airlock-desktop`, which no test target of its own package builds.
CLIPPY_DRIVER = $(shell rustup which clippy-driver 2>/dev/null || command -v clippy-driver)
LINTED = RUSTC_WORKSPACE_WRAPPER="$(CLIPPY_DRIVER)" CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"

test-rust: ui
	@test -n "$(CLIPPY_DRIVER)" || { echo "clippy-driver is missing: rustup component add clippy"; exit 1; }
	$(CARGO) fmt --all --check
	$(LINTED) $(CARGO) build --workspace --all-targets
	AIRLOCK_BIN=$(AIRLOCK) bash installers/tests/update_test.sh
	@# The tests' data directories share one prompt cache: the planner's prompt prefix is
	@# processed once per run instead of once per test (entries are keyed by model and binary).
	AIRLOCK_PROMPT_CACHE_DIR="$(CURDIR)/target/prompt-cache" $(LINTED) $(CARGO) nextest run --workspace --no-fail-fast

# The sandbox tests need the Docker engine: without one, `make test` stops at setup.
test: export AIRLOCK_REQUIRE_DOCKER := 1
test: setup test-ui test-scripts test-rust

bench: bench-governor bench-sandbox bench-connectors bench-embed bench-rag bench-desktop bench-batch
	@bin="$$(bash scripts/build_llama_bench.sh | tail -n 1)" && \
		LLAMA_BENCH="$$bin" $(CARGO) bench --workspace --bench generation

# The desktop app's start-up to an interactive window (cold and warm) and the idle memory of
# the shell, its WebKit processes and the model worker, on a private Xvfb display. The app
# measured is the release build; the harness itself is built in the dev profile, with the
# tests' dependencies (a release harness would build every dependency again with the
# dev-dependencies' features).
bench-desktop: setup ui
	$(CARGO) build --release --workspace
	AIRLOCK_DESKTOP_BIN=$(TARGET_DIR)/release/airlock-desktop $(LINTED) $(CARGO) bench --workspace --bench desktop --profile dev

# The governor's decision cost next to bare Cedar, and the audit chain's append and verify
# rates (criterion; no model needed).
bench-governor: setup ui
	$(CARGO) bench -p airlock-policy -p airlock-store --bench governor --bench audit

# `airlock batch` in plan mode: a 1,000-request file with stated calls (the governor's path)
# and BATCH_MODEL_REQUESTS (default 100) text requests the default model plans.
bench-batch: setup ui
	$(CARGO) build --release -p airlock-cli
	bash scripts/bench_batch.sh $(TARGET_DIR)/release/airlock models/SmolLM2-135M-Instruct.Q4_1.gguf

# Our sandbox runner's round trip next to `docker run --rm` with the same flags.
bench-sandbox: export AIRLOCK_REQUIRE_DOCKER := 1
bench-sandbox: setup ui
	$(CARGO) bench --workspace --bench sandbox

# Connector round trips: the MES through ODBC.
bench-connectors: setup ui
	$(CARGO) bench --workspace --bench mes --bench sap

# Sentence embeddings: ours next to sentence-transformers, same texts, batch and threads
# (its venv, ~6 GB, is made once by scripts/setup_bench_python.sh).
bench-embed: setup ui
	@bash scripts/setup_bench_python.sh
	$(CARGO) bench --workspace --bench embed

# Document retrieval at 10k and 100k synthetic chunks: KNN, BM25 and hybrid latency through
# the real store, and the KNN's recall@10 against an exact scan.
bench-rag: setup ui
	$(CARGO) bench -p airlock-rag --bench retrieval

# Answer citations on the fixture question set through `airlock ask` and the demo model
# (AIRLOCK_EVAL_MODEL=path.gguf for another): about 20 s per question on 2 cores.
eval-citations: setup models-recommended ui
	$(CARGO) bench -p airlock-cli --bench citations

# The planner's tool-selection accuracy and argument validity on fixtures/planner/selection.toml:
# greedy with every tool offered and with the top 4 and 6 (grammar) and top 4 (prompt too), and
# the scored choice with and without its clauses' check (AIRLOCK_EVAL_MODEL=path.gguf for another
# model, AIRLOCK_EVAL_SETTINGS=scored,every for some settings only, AIRLOCK_EVAL_CASES=path.toml
# for other requests): about 20 minutes on 2 cores.
eval-planner: setup models-recommended ui
	$(CARGO) bench -p airlock-agent --bench planner

# Fuzz the governor's guards with cargo-fuzz (libFuzzer + AddressSanitizer), FUZZ_SECONDS per
# target. Needs no `setup`. cargo-fuzz passes nightly-only rustc flags (-Zsanitizer, sancov);
# RUSTC_BOOTSTRAP=1 lets the stable toolchain accept them, and the sanitizer runtime ships with
# the stable standard library. Findings land in $(FUZZ_DIR)/artifacts/<target>/.
FUZZ_SECONDS ?= 60
FUZZ_DIR := src-tauri/crates/airlock-policy/fuzz
FUZZ_TARGETS := command_guard sql_guard

fuzz:
	@command -v cargo-fuzz >/dev/null 2>&1 || $(CARGO) install cargo-fuzz --locked
	@cd $(FUZZ_DIR) && for target in $(FUZZ_TARGETS); do \
		mkdir -p corpus/$$target && \
		echo "fuzz: $$target for $(FUZZ_SECONDS) s" && \
		RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR="$(TARGET_DIR)" $(CARGO) fuzz run $$target \
			corpus/$$target seeds/$$target -- \
			-max_total_time=$(FUZZ_SECONDS) -dict=dict/$$target.dict -print_final_stats=1 \
			|| exit 1; \
	done
