# Sentimon: the two Quick start commands (`make run`, `make test`) and the checks CI runs.
PYTHON ?= python3
STAMP  := var/.installed-$(shell cat pyproject.toml | md5sum | cut -c1-8)

.PHONY: install system-deps run test test-fast lint typecheck check stack-up stack-down

$(STAMP): pyproject.toml
	@echo "==> Installing Sentimon and its Python dependencies (once; again only when pyproject.toml changes)."
	@echo "    This takes a few minutes: PyTorch, which runs the classifier, is most of the download."
	$(PYTHON) -m pip install --progress-bar on -e '.[dev]'
	@mkdir -p var && rm -f var/.installed-* && touch $(STAMP)
	@echo "==> Installed. Next time \`make run\` starts at once."

install: $(STAMP)

system-deps:
	bash infra/system-deps.sh

## The monitor on its embedded default: demo scenario, SQLite, in-memory live view, dashboard.
run: install
	sentimon run

## The whole suite against the real local stack (Kafka, Postgres, Redis, Chromium).
test: system-deps install
	bash infra/run-tests.sh

## Unit tests only: no services needed.
test-fast: install
	$(PYTHON) -m pytest -m "not integration and not browser" -q

lint: install
	ruff check .
	ruff format --check .

## mypy on the packages pyproject.toml's [tool.mypy] names (cold: a minute or two on 2 cores; then seconds).
typecheck: install
	$(PYTHON) -m mypy

check: lint typecheck test

stack-up: install
	sentimon stack up

stack-down:
	sentimon stack down
