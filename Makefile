# Doorstep: `make run` opens the app, `make test` runs everything CI checks.
SHELL := /bin/bash
export PATH := $(HOME)/.cargo/bin:$(PATH)

.PHONY: run test deps frontend build lint fmt-check clippy unit frontend-test e2e fuzz fuzz-smoke clean

run: deps frontend build
	scripts/run-app.sh

test: deps frontend lint unit frontend-test build e2e fuzz-smoke

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
	cd frontend && npm test

e2e: build
	scripts/e2e.sh

# Every fuzz target for 4 hours or 10 million executions each (RELIABILITY.md); CI runs
# each for 30 seconds.
fuzz:
	scripts/fuzz.sh 14400

fuzz-smoke:
	scripts/fuzz.sh 30

clean:
	cargo clean
	rm -rf frontend/dist frontend/node_modules fuzz/target
