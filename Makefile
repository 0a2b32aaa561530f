# Everyday tasks. `make run` starts the application on a demo database; `make test` is
# what CI runs (.ci/run). Every target works from a fresh clone: Go fetches the pinned
# templ itself, and staticcheck is installed on first use.

GO ?= go
# Tools installed by `go install` land here.
TOOLBIN := $(shell $(GO) env GOPATH)/bin
# staticcheck release 2026.2.2 is module version v0.8.2; installing by the module version
# works through any Go module proxy or cache, the release name needs a git tag lookup.
STATICCHECK_RELEASE := 2026.2.2
STATICCHECK_MODULE_VERSION := v0.8.2
STATICCHECK := $(TOOLBIN)/staticcheck

# Extra `go test` flags, e.g. `make test TESTFLAGS=-v` (CI does, to print skip reasons).
TESTFLAGS ?=
# The tests find PostgreSQL themselves (internal/db/dbtest): TEST_DATABASE_URL if set,
# whether in the environment or as `make test TEST_DATABASE_URL=…`; else a server on
# localhost:5432; else a private cluster under .data/. Make passes it through as it is.

.PHONY: build run generate check fmt vet staticcheck templ-check test test-short db-stop clean

build:
	$(GO) build -o bin/biobank ./cmd/biobank

# `biobank dev` finds or starts a database, migrates it, seeds demo data into an empty
# one, prints the URL and the demo logins, and serves.
run: build
	./bin/biobank dev

generate:
	$(GO) tool templ generate

check: fmt vet staticcheck templ-check

fmt:
	@files="$$(gofmt -l .)"; \
	if [ -n "$$files" ]; then echo "gofmt would change these files (run gofmt -w):"; echo "$$files"; exit 1; fi

vet:
	$(GO) vet ./...

# Installs the pinned staticcheck when it is missing or another version.
staticcheck:
	@if ! "$(STATICCHECK)" -version 2>/dev/null | grep -qF " $(STATICCHECK_RELEASE) ($(STATICCHECK_MODULE_VERSION:v%=%))"; then \
		echo "installing staticcheck $(STATICCHECK_RELEASE) into $(TOOLBIN)"; \
		GOBIN="$(TOOLBIN)" $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_MODULE_VERSION); \
	fi
	"$(STATICCHECK)" ./...

# The generated *_templ.go files are committed: regenerate them with the templ pinned in
# go.mod and fail if that changes or adds any (templ's own ensure-generated check).
templ-check:
	$(GO) tool templ generate -log-level warn
	@changed="$$(git status --porcelain -- '*_templ.go')" || exit 1; \
	if [ -n "$$changed" ]; then \
		echo "$$changed"; \
		echo "templ generated files are stale: run make generate and commit"; exit 1; \
	fi

# Every package, the browser tests in ./e2e included (they need /usr/bin/chromium).
test: check
	$(GO) test -count=1 -timeout 12m $(TESTFLAGS) ./...

# Everything but the browser tests, and no checks: the quick loop while editing.
test-short:
	$(GO) test -count=1 -timeout 5m $(TESTFLAGS) $$($(GO) list ./... | grep -v '^biobank/e2e')

# Stops the private PostgreSQL cluster `make run` may have started under .data/.
db-stop:
	./scripts/db-stop .data

clean:
	rm -rf bin/
