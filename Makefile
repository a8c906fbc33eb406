# Run `make help` for the list of targets.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
LDFLAGS := -X main.version=$(VERSION)
FUZZTIME ?= 30s
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2

.DEFAULT_GOAL := help
.PHONY: build test lint bench loadtest fuzz demo image check help

build: ## build bin/skipper (static, with version info) and bin/demo-backend
	CGO_ENABLED=0 go build -ldflags "$(LDFLAGS)" -o bin/skipper ./cmd/skipper
	go build -o bin/demo-backend ./cmd/demo-backend

test: ## run every test with the race detector, then the allocation tests without it
	go test -race -count=1 ./...
	go test -count=1 -run 'Allocs|DoesNotAllocate' ./...

lint: ## gofmt check, go vet and staticcheck
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	go vet ./...
	go run $(STATICCHECK) ./...

bench: ## Go benchmarks of the hot path, then the load test
	go test -run='^$$' -bench=. -benchmem ./...
	./scripts/bench/loadtest.sh

loadtest: ## skipper vs nginx, Squid and a TCP relay on four paths (SCENARIOS, ROUNDS, DURATION, CONNS)
	./scripts/bench/loadtest.sh

fuzz: ## fuzz the parsers and the hand-written HTTP code against net/http, $(FUZZTIME) each
	go test ./routing -run='^$$' -fuzz=FuzzParse -fuzztime=$(FUZZTIME)
	go test ./internal/h1 -run='^$$' -fuzz=FuzzWriteRequest -fuzztime=$(FUZZTIME)
	go test ./internal/h1 -run='^$$' -fuzz=FuzzExchange -fuzztime=$(FUZZTIME)
	go test ./internal/proxy -run='^$$' -fuzz=FuzzConnection -fuzztime=$(FUZZTIME)
	go test ./internal/proxy -run='^$$' -fuzz=FuzzGuardConn -fuzztime=$(FUZZTIME)
	go test ./internal/proxy -run='^$$' -fuzz=FuzzValidQuery -fuzztime=$(FUZZTIME)

demo: build ## run skipper on the bearer-injection demo (README's quick start)
	./scripts/demo.sh

image: ## write bin/skipper-image.tar, skipper's OCI image (offline, reproducible)
	go run ./internal/imagebuild -version $(VERSION) -o bin/skipper-image.tar

check: lint test ## what CI runs

# A $(VAR) in a description shows its value: the variables named there are exported to awk.
help: export FUZZTIME := $(FUZZTIME)
help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z]+:.*## / { \
		d = $$2; \
		while (match(d, /\$$\([A-Za-z_]+\)/)) \
			d = substr(d, 1, RSTART - 1) ENVIRON[substr(d, RSTART + 2, RLENGTH - 3)] substr(d, RSTART + RLENGTH); \
		printf "  %-8s %s\n", $$1, d }' $(MAKEFILE_LIST)
