# transcodes-webhooks. `make test` is what CI runs; `make demo` shows the service at work.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
KAFKA_VERSION ?= 4.4.0
KAFKA_LIBS := .cache/kafka/$(KAFKA_VERSION)/libs
export LOCAL_KAFKA_VERSION := $(KAFKA_VERSION)
export LOCAL_KAFKA_LIBS := $(CURDIR)/$(KAFKA_LIBS)

.PHONY: help venv kafka-jars lint typecheck pytest test demo bench bench-soak fuzz schemas kafka clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(BIN)/.installed: pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade "pip>=24"
	$(BIN)/python -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $@

venv: $(BIN)/.installed ## create .venv with the pinned packages

$(KAFKA_LIBS)/.complete: dev/kafka/pom.xml
	@command -v mvn >/dev/null || { echo "Maven (mvn) is needed to fetch the Kafka jars"; exit 1; }
	@command -v java >/dev/null || { echo "Java 17 is needed to run the local Kafka broker"; exit 1; }
	mvn -q -B -f dev/kafka/pom.xml dependency:copy-dependencies -Dkafka.version=$(KAFKA_VERSION) \
	    -DincludeScope=runtime -DoutputDirectory=$(CURDIR)/$(KAFKA_LIBS)
	@touch $@

kafka-jars: $(KAFKA_LIBS)/.complete ## fetch the Kafka broker's jars from Maven Central

lint: venv ## ruff check + format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv ## mypy --strict on the package
	$(BIN)/mypy --strict consumer

pytest: venv kafka-jars ## the test suite (starts and stops its own Kafka broker)
	$(BIN)/pytest $(PYTEST_ARGS)

test: lint typecheck pytest ## everything CI runs

fuzz: venv ## the hardening suite's fuzz properties with 20 000 examples each (docs/security.md)
	HYPOTHESIS_PROFILE=fuzz $(BIN)/pytest tests/hardening/test_fuzz.py --timeout=0 $(PYTEST_ARGS)

demo: venv kafka-jars ## the service end to end: local broker, capture sink, consumer, the spec's scenarios
	$(BIN)/python -m dev.demo

kafka: venv kafka-jars ## run a local broker in the foreground (Ctrl-C stops it)
	$(BIN)/python -m dev.localkafka run

schemas: venv ## regenerate schemas/ from the models
	$(BIN)/webhook-consumer schemas --out schemas

$(BIN)/.bench-installed: $(BIN)/.installed pyproject.toml constraints.txt
	$(BIN)/python -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev,bench]'
	@touch $@

bench: venv kafka-jars $(BIN)/.bench-installed ## benchmarks vs raw baselines, < 10 min (docs/BENCHMARKS.md)
	$(BIN)/python -m bench.run $(BENCH_ARGS)

bench-soak: venv kafka-jars $(BIN)/.bench-installed ## the 10-minute memory soak at 500 events/s
	$(BIN)/python -m bench.run --soak $(BENCH_ARGS)

clean: ## remove the venv and caches (keeps the Kafka jars)
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
