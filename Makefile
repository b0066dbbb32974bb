# Doorstep: `make run` opens the app, `make test` runs everything CI checks.
SHELL := /bin/bash
export PATH := $(HOME)/.cargo/bin:$(PATH)

.PHONY: run test deps frontend build lint fmt-check clippy unit frontend-test e2e e2e-fuzz-build fuzz fuzz-smoke campaign clean

run: deps frontend build
	scripts/run-app.sh

test: deps frontend lint unit frontend-test build e2e-fuzz-build fuzz-smoke

deps:
	scripts/install-deps.sh

frontend:
	cd frontend && npm run build

build:
	cargo build --workspace --bins

lint: fmt-check clippy

fmt-check:
	cargo fmt --all -- --check

clippy:
	cargo clippy --workspace --all-targets --locked -- -D warnings

# Every Rust test on SQLite, then the sync server's tests again on PostgreSQL (selected
# with --workspace, not -p, so that the workspace keeps one feature set: no rebuild).
unit: build
	cargo test --workspace --locked
	url=$$(scripts/postgres.sh) && \
	  DOORSTEP_TEST_POSTGRES="$$url" DOORSTEP_TEST_BACKEND=postgres \
	  cargo test --locked --workspace --test sync

frontend-test:
	scripts/test-images.sh
	cd frontend && npm test

e2e: build
	scripts/e2e.sh

# The end-to-end tests with the fuzz targets building beside them at the lowest
# priority (the tests mostly wait on the window): CI's time, not its checks.
e2e-fuzz-build: build
	mkdir -p target
	FUZZ_PROFILE=dev nice -n 19 scripts/fuzz.sh build >target/fuzz-build.log 2>&1 & \
	  builder=$$!; \
	  scripts/e2e.sh; e2e=$$?; \
	  if ! wait $$builder; then cat target/fuzz-build.log; exit 1; fi; \
	  exit $$e2e

# The long campaigns of RELIABILITY.md (make test runs a short one of each): 100,000
# convergence cases in process (a failing seed is kept in
# tests/tests/convergence/regressions.txt and replayed by every later run), 5,000 kills
# of a writer, 5,000 power cuts, 1,000 I/O faults and 400 kills or cuts of a syncing
# tablet. Built optimized: a convergence case takes half the time (85 ms against
# 178 ms on one core, measured), which pays for the build many times over. The crash
# campaign's syncing tablet needs the server built the same way.
campaign: deps
	cargo build --locked --release --workspace --bin doorstep-server
	DOORSTEP_SYNC_CASES_IN_PROCESS=$${DOORSTEP_SYNC_CASES_IN_PROCESS:-100000} \
	  cargo test --locked --release --workspace --test convergence -- --nocapture
	DOORSTEP_CRASH_ROUNDS=$${DOORSTEP_CRASH_ROUNDS:-5000} \
	  DOORSTEP_POWER_CUTS=$${DOORSTEP_POWER_CUTS:-5000} \
	  DOORSTEP_IO_FAULTS=$${DOORSTEP_IO_FAULTS:-1000} \
	  DOORSTEP_CRASH_SYNC_ROUNDS=$${DOORSTEP_CRASH_SYNC_ROUNDS:-400} \
	  cargo test --locked --release --workspace --test crash -- --nocapture

# Every fuzz target for 4 hours or 10 million executions each (RELIABILITY.md); CI runs
# each for 30 seconds, built unoptimized (FUZZ_PROFILE=dev).
fuzz:
	scripts/fuzz.sh 14400

fuzz-smoke:
	FUZZ_PROFILE=dev scripts/fuzz.sh 30

clean:
	cargo clean
	rm -rf frontend/dist frontend/node_modules fuzz/target
