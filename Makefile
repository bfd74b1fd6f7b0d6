# Entry point for everything: `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PY ?= python3
VENV := .venv
PYTHON := $(VENV)/bin/python
STAMP := $(VENV)/.installed
ARGS ?=
EDGE_PORT ?= 8000
EMULATOR_PORT ?= 4566
SEEDS ?= 1000
FIRST ?= 0

# Terraform: use the offline provider mirror when this machine has one.
TF_MIRROR ?= /opt/tf-plugins
TF_RC := $(CURDIR)/.local/terraformrc
ifneq ($(wildcard $(TF_MIRROR)),)
export TF_CLI_CONFIG_FILE := $(TF_RC)
endif

.PHONY: help venv run canary test test-fast lint bench bench-as-of loadtest cost package lock infra-local plan deploy clean tf-config \
	checkov-venv tf-test slo-config gameday sim

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk -F':.*?## ' '{printf "  %-14s %s\n", $$1, $$2}'

# Every dependency comes from a lock with sha256 hashes (requirements/*.txt, `make lock`): pip
# refuses any file whose bytes differ. The project itself is then installed without dependencies.
$(STAMP): pyproject.toml requirements/dev.txt
	@$(PY) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required")'
	test -x $(PYTHON) || $(PY) -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --require-hashes --no-deps -r requirements/dev.txt
	$(PYTHON) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

venv: $(STAMP) ## Create the virtualenv with every dependency

tf-config:
	@mkdir -p .local
	@if [ -d "$(TF_MIRROR)" ]; then \
	  printf 'provider_installation {\n  filesystem_mirror {\n    path    = "%s"\n    include = ["registry.terraform.io/hashicorp/*"]\n  }\n}\n' "$(TF_MIRROR)" > $(TF_RC); \
	fi

run: $(STAMP) ## Start the whole stack locally (emulator :4566, edge :8000); Ctrl-C stops it
	$(PYTHON) -m publisher run --edge-port $(EDGE_PORT) --emulator-port $(EMULATOR_PORT) $(ARGS)

canary: $(STAMP) ## One canary run against `make run` (EDGE_PORT/EMULATOR_PORT): prints write-to-edge freshness
	$(PYTHON) -m publisher canary --edge http://127.0.0.1:$(EDGE_PORT) --endpoint http://127.0.0.1:$(EMULATOR_PORT) $(ARGS)

test: $(STAMP) tf-config checkov-venv ## Set everything up and run every test tier (and ruff)
	$(PYTHON) -m ruff check publisher scripts tests benchmarks
	$(PYTHON) -m pytest $(ARGS)

test-fast: $(STAMP) ## Unit and integration tests only
	$(PYTHON) -m pytest tests/unit tests/integration -q $(ARGS)

sim: $(STAMP) ## The deterministic simulation over SEEDS seeds (default 1000; CI runs 200 in pytest): every failing seed printed as a command
	$(PYTHON) -m tests.sim --seeds $(SEEDS) --first $(FIRST)

lint: $(STAMP) ## ruff over the code
	$(PYTHON) -m ruff check publisher scripts tests benchmarks

bench: $(STAMP) ## Benchmarks, about 7 min (ARGS=--full adds the publisher at 100k and more samples): publish, full batches, bulk seed, freshness, read latency and memory, cold start, page size, cost inputs, as-of reads at 20,000 versions (bench-as-of alone)
	$(PYTHON) benchmarks/bench_publish.py $(ARGS)
	$(PYTHON) benchmarks/bench_batches.py $(ARGS)
	$(PYTHON) benchmarks/bench_bulk.py
	$(PYTHON) benchmarks/bench_freshness.py
	$(PYTHON) benchmarks/bench_read.py $(ARGS)
	$(PYTHON) benchmarks/bench_read_memory.py
	$(PYTHON) benchmarks/bench_cold_start.py
	$(PYTHON) benchmarks/bench_page.py
	$(PYTHON) benchmarks/bench_cost_inputs.py
	$(PYTHON) benchmarks/bench_as_of.py

bench-as-of: $(STAMP) ## History at scale, about 3 min: as-of reads at 10k models and 20,000 versions with S3 20 ms away, and catch-up by version (last line: one JSON object; benchmarks/results/as_of.json)
	$(PYTHON) benchmarks/bench_as_of.py

loadtest: $(STAMP) ## 2,000 connections (wrk) on /llms.json and /api/llms while a writer republishes
	$(PYTHON) benchmarks/loadtest.py $(ARGS)

gameday: $(STAMP) ## Game day, 3 to 4 min: four outages (control plane, S3, read function, publisher crash loop in a bulk seed) under load on its own stack; table, results/gameday.json, a JSON line
	$(PYTHON) benchmarks/gameday.py $(ARGS)

cost: $(STAMP) ## Monthly cost: PoC, this design and the CDN floor (ARGS=--json | --markdown | --free-tier ...)
	@$(PYTHON) scripts/cost_model.py $(ARGS)

slo-config: $(STAMP) ## Write infra/slo.json (burn-rate thresholds, canary contract) from publisher/core/slo.py
	$(PYTHON) scripts/slo_config.py

UV_LOCK := $(VENV)/bin/uv pip compile --generate-hashes --no-header --quiet
lock: $(STAMP) ## Rewrite the hash locks in requirements/ from pyproject.toml and requirements/*.in (needs PyPI)
	$(UV_LOCK) pyproject.toml --extra dev --universal --python-version 3.11 -o requirements/dev.txt
	$(UV_LOCK) requirements/checkov.in --universal --python-version 3.11 -o requirements/checkov.txt
	@# The Lambda bundle: python3.13 on arm64, without what the runtime provides (boto3's stack).
	$(UV_LOCK) requirements/lambda.in --python-platform aarch64-manylinux2014 --python-version 3.13 \
	  --no-emit-package botocore --no-emit-package python-dateutil --no-emit-package urllib3 \
	  --no-emit-package six -o requirements/lambda.txt

package: $(STAMP) ## Build dist/*.zip from the hash lock, byte-for-byte reproducible, with a CycloneDX SBOM each
	$(PYTHON) scripts/package.py $(ARGS)

infra-local: package tf-config ## Apply infra/ to the emulator at AWS_ENDPOINT_URL (starts moto if none), print outputs
	$(PYTHON) scripts/infra_local.py $(ARGS)

TF_BACKEND ?= backend.hcl
plan: package tf-config ## terraform plan for a real account (needs infra/backend.hcl + AWS credentials; NO_LOCK=1 leaves the state lock alone, as the plan role must)
	terraform -chdir=infra init -input=false -lockfile=readonly -backend-config=$(TF_BACKEND)
	terraform -chdir=infra plan -input=false -out=tfplan $(if $(NO_LOCK),-lock=false,) $(ARGS)

deploy: package tf-config ## terraform apply for a real account: plan, refuse a plan that lets anyone outside the account in, apply that plan (asks first unless CI is set)
	terraform -chdir=infra init -input=false -lockfile=readonly -backend-config=$(TF_BACKEND)
	terraform -chdir=infra plan -input=false -out=tfplan $(ARGS)
	terraform -chdir=infra show -json tfplan > infra/tfplan.json
	$(PYTHON) -m tests.infra.planned_policies infra/tfplan.json
	$(if $(CI),,@read -p "Apply this plan? [y/N] " answer && [ "$$answer" = y ])
	terraform -chdir=infra apply -input=false tfplan

CHECKOV := .venv-checkov/bin/checkov
$(CHECKOV): requirements/checkov.txt
	test -x .venv-checkov/bin/python || $(PY) -m venv .venv-checkov
	.venv-checkov/bin/python -m pip install --quiet --require-hashes --no-deps -r requirements/checkov.txt
	touch $(CHECKOV)
checkov-venv: $(CHECKOV) ## checkov in its own virtualenv (it pins an old boto3)

tf-test: $(STAMP) tf-config checkov-venv ## Terraform tier: fmt, validate, checkov, emulator apply, packaging, IAM
	$(PYTHON) -m pytest tests/infra $(ARGS)

clean: ## Remove build and local state (not the virtualenv)
	rm -rf dist .local .pytest_cache test-artifacts
