# The two commands a fresh machine needs: `make demo` and `make test`. Both set everything up first.
.PHONY: setup demo test bench screens export

setup:
	bash tools/setup.sh

demo: setup
	.venv/bin/python demo/app.py $(if $(DATABASE_URL),--database-url "$(DATABASE_URL)")

test:
	bash tools/setup.sh --browser
	bash tools/test.sh

bench: setup
	.venv/bin/python bench/bench.py

screens: setup
	.venv/bin/python tools/screens.py

export:
	.venv/bin/nbdev-export && .venv/bin/nbdev-clean
