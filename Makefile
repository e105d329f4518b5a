# Two commands for a new user: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
OUT ?= demo-output
# pytest-xdist workers: one per core (a third worker on two cores gained a few seconds and made
# the timing-sensitive tests less steady); `make test PYTEST_WORKERS=0` runs in one process. --dist loadfile keeps a module's tests on one worker, so module and session
# fixtures (a demo run, a server) are made once per worker. (--dist loadgroup does not group
# with pytest 9.2 and pytest-xdist 3.8.0: tests marked alike were seen on both workers.)
# The files that hold the long end-to-end cases are handed out first (tests/conftest.py), so that
# the workers end on short files together.
PYTEST_WORKERS ?= auto
PYTEST_ARGS ?=

.PHONY: demo test lint typecheck audit pytest bench dist clean

VENDOR := src/carbonlink/api/static/vendor
# axe-core, the accessibility checker the browser tests inject into each page (not shipped).
TEST_VENDOR := tests/api/vendor
# Noto Sans SC (SIL OFL 1.1) for the PDF reports, embedded by WeasyPrint through @font-face.
FONTS := src/carbonlink/reports/fonts
NOTO_SC := frontend/node_modules/@expo-google-fonts/noto-sans-sc
# The W3C Verifiable Credentials 2.0 contexts (W3C Software and Document License, notice in
# LICENSE.md beside them): credentials are canonicalised and verified without the network.
VC_CONTEXTS := src/carbonlink/credentials/contexts
VC_CONTEXT_SRC := frontend/node_modules/@digitalbazaar/credentials-context

$(STAMP): pyproject.toml constraints.txt frontend/package-lock.json
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[test]"
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)
	cp frontend/node_modules/echarts/dist/echarts.min.js $(VENDOR)/
	cp frontend/node_modules/swagger-ui-dist/swagger-ui-bundle.js $(VENDOR)/
	cp frontend/node_modules/swagger-ui-dist/swagger-ui.css $(VENDOR)/
	mkdir -p $(TEST_VENDOR)
	cp frontend/node_modules/axe-core/axe.min.js $(TEST_VENDOR)/
	mkdir -p $(FONTS)
	cp $(NOTO_SC)/400Regular/NotoSansSC_400Regular.ttf $(NOTO_SC)/700Bold/NotoSansSC_700Bold.ttf $(FONTS)/
	cp $(NOTO_SC)/LICENSE_FONT $(FONTS)/OFL.txt
	mkdir -p $(VC_CONTEXTS)
	cp $(VC_CONTEXT_SRC)/contexts/v2.jsonld $(VC_CONTEXT_SRC)/contexts/undefined-terms-v2.jsonld $(VC_CONTEXT_SRC)/LICENSE.md $(VC_CONTEXTS)/
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/carbonlink demo --out $(OUT)

# scripts/test-env installs the system packages the tests use (as root), starts the services
# that are installed but down and points the tests at them; see its header. The suite includes
# the security audit (tests/test_security_audit.py) and the manual, built strictly once by
# tests/test_docs_site.py (on a pytest worker, beside other tests) and then checked.
test: $(STAMP) lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests $(wildcard benchmarks fuzz)
	$(BIN)/ruff format --check src tests $(wildcard benchmarks fuzz)

typecheck: $(STAMP)
	$(BIN)/mypy

# Known vulnerabilities in the pinned dependencies (PyPI's advisory data) and a static security
# scan of the code, alone; accepted findings are justified in security-audit.md.
audit: $(STAMP)
	$(BIN)/pytest -p no:cacheprovider -ra tests/test_security_audit.py

# The manual, built strictly (a broken link fails) into site/.
.PHONY: docs
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

pytest: $(STAMP)
	scripts/test-env $(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile --durations=20 $(PYTEST_ARGS)

bench: $(STAMP)
	for b in benchmarks/bench_*.py; do $(BIN)/python $$b || exit 1; done

# A wheel and an sdist in dist/, the vendored browser files inside.
dist: $(STAMP)
	rm -rf dist
	$(BIN)/python -m build --outdir dist

clean:
	rm -rf $(VENV) $(OUT) dist frontend/node_modules $(VENDOR) $(TEST_VENDOR) $(FONTS) $(VC_CONTEXTS) .pytest_cache .mypy_cache .ruff_cache
