# Two commands for a new user: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
OUT ?= demo-output

.PHONY: demo test lint typecheck pytest bench clean

VENDOR := src/carbonlink/api/static/vendor
# Noto Sans SC (SIL OFL 1.1) for the PDF reports, embedded by WeasyPrint through @font-face.
FONTS := src/carbonlink/reports/fonts
NOTO_SC := frontend/node_modules/@expo-google-fonts/noto-sans-sc

$(STAMP): pyproject.toml constraints.txt frontend/package-lock.json
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[test]"
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)
	cp frontend/node_modules/echarts/dist/echarts.min.js $(VENDOR)/
	cp frontend/node_modules/swagger-ui-dist/swagger-ui-bundle.js $(VENDOR)/
	cp frontend/node_modules/swagger-ui-dist/swagger-ui.css $(VENDOR)/
	mkdir -p $(FONTS)
	cp $(NOTO_SC)/400Regular/NotoSansSC_400Regular.ttf $(NOTO_SC)/700Bold/NotoSansSC_700Bold.ttf $(FONTS)/
	cp $(NOTO_SC)/LICENSE_FONT $(FONTS)/OFL.txt
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/carbonlink demo --out $(OUT)

test: $(STAMP) lint typecheck docs pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests $(wildcard benchmarks fuzz)
	$(BIN)/ruff format --check src tests $(wildcard benchmarks fuzz)

typecheck: $(STAMP)
	$(BIN)/mypy

# The manual, built strictly (a broken link fails) into site/.
.PHONY: docs
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

pytest: $(STAMP)
	$(BIN)/pytest

bench: $(STAMP)
	for b in benchmarks/bench_*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) $(OUT) frontend/node_modules $(VENDOR) $(FONTS) .pytest_cache .mypy_cache .ruff_cache
