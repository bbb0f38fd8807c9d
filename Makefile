# eventhub — `make run` starts the whole stack locally; `make test` runs every test.
SHELL := /bin/bash
FUNCTIONS := ingest normalize persist notify api replay
GO ?= go
LAMBDA_FLAGS := -tags lambda.norpc -trimpath -ldflags="-s -w"
ARM64_ENV := GOOS=linux GOARCH=arm64 CGO_ENABLED=0
BUILD_DIR := bin/arm64

.PHONY: run test bench chaos deps build verify deploy clean invoke vet cli smoke

## run: start the local stack (API on 127.0.0.1:3000; ARGS="-addr 127.0.0.1:3001" to change)
run: deps
	@$(GO) build -o .eventhub/eventhub-local ./infra/local
	@.eventhub/eventhub-local run $(ARGS)

## cli: the operators' command line, in bin/eventhub (see README, "The eventhub CLI")
cli:
	$(GO) build -o bin/eventhub ./infra/cli

## test: unit, integration and end-to-end tests against the local emulators
test: deps
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 15m ./...

## smoke: end-to-end checks of a deployed stack (docs/operating.md): every producer format
## sent and read back, a delivery to RECEIVER, one trace from the bus to the delivery.
## EVENTHUB_API and EVENTHUB_ADMIN_TOKEN from the environment:
##   make smoke RECEIVER=https://your.endpoint/hook   (make test runs it on the local stack)
smoke:
	@$(GO) run ./infra/smoke/cmd/eventhub-smoke -receiver "$(RECEIVER)" $(ARGS)

## bench: cold start, binary size, normalize and match CPU, chain throughput and latency,
## and the cost of a million events, next to their baselines (a few minutes; see the
## README's Performance section); writes .eventhub/bench.json. ARGS="-rounds 3" is quicker.
bench: deps
	@$(GO) run ./infra/bench $(ARGS)

## chaos: the local stack under load and injected faults; the ledger must balance
## (bounded to 10 minutes, loopback only; ARGS="-events 500" for a short run)
chaos: deps
	@$(GO) build -o .eventhub/eventhub-chaos ./infra/chaos
	@.eventhub/eventhub-chaos $(ARGS)

## deps: Go modules, the npm packages of the local stack, Java 17 for DynamoDB Local, and
## Chromium for the console's browser tests
deps:
	@$(GO) mod download
	@command -v java >/dev/null 2>&1 || { echo "installing Java 17 for DynamoDB Local"; \
		apt-get update -qq && apt-get install -y -qq openjdk-17-jre-headless >/dev/null; }
	@command -v node >/dev/null 2>&1 || { echo "installing Node.js for the SQS emulator"; \
		apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null; }
	@command -v chromium >/dev/null 2>&1 || { echo "installing Chromium for the console's browser tests"; \
		apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }
	@$(GO) run ./infra/local install

## build: linux/arm64 bootstraps for deployment, in bin/arm64/<function>/bootstrap
build:
	@for fn in $(FUNCTIONS); do \
		echo "build $$fn"; \
		$(ARM64_ENV) $(GO) build $(LAMBDA_FLAGS) -o $(BUILD_DIR)/$$fn/bootstrap ./functions/$$fn || exit 1; \
	done

## verify: check that every bootstrap was built for arm64 with the Lambda flags
## (go version -m does not record -ldflags when -trimpath is set, so -s and -w are
## checked on the binary itself: no symbol table, no DWARF)
verify:
	@for fn in $(FUNCTIONS); do \
		bin=$(BUILD_DIR)/$$fn/bootstrap; \
		test -f $$bin || { echo "$$bin missing: run make build"; exit 1; }; \
		info=$$($(GO) version -m $$bin); \
		for want in "GOARCH=arm64" "GOOS=linux" "CGO_ENABLED=0" "-tags=lambda.norpc" "-trimpath=true"; do \
			grep -qF -- "$$want" <<<"$$info" || { echo "$$bin: missing build setting $$want"; exit 1; }; \
		done; \
		$(GO) tool nm $$bin 2>&1 | grep -q "no symbols" || { echo "$$bin: has a symbol table (built without -ldflags=-s)"; exit 1; }; \
		! grep -qa "\.debug_info\|\.zdebug_info" $$bin || { echo "$$bin: has DWARF (built without -ldflags=-w)"; exit 1; }; \
		echo "$$bin: linux/arm64, CGO_ENABLED=0, lambda.norpc, trimpath, -s -w"; \
	done

## deploy: build with SAM and deploy (needs the AWS SAM CLI and credentials)
deploy:
	@command -v sam >/dev/null 2>&1 || { echo "the AWS SAM CLI is needed: https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/install-sam-cli.html"; exit 1; }
	sam build
	sam deploy $(DEPLOY_ARGS)

## invoke: run one function once, like `sam local invoke`: make invoke FN=notify EVENT=events/notify-stored.json;
## without FN and EVENT, every fixture in events/ with the answer events/fixtures.json expects
invoke: deps
	@$(GO) build -o .eventhub/eventhub-local ./infra/local
	@.eventhub/eventhub-local invoke $(if $(FN),-fn $(FN)) $(if $(EVENT),-event $(EVENT))

## clean: remove local data, tokens and build output (the next `make run` starts empty)
clean:
	rm -rf .eventhub/data .eventhub/local.env .eventhub/bin bin .aws-sam

# Targets `sam build` calls for each function (Metadata: BuildMethod: makefile).
build-IngestFunction build-NormalizeFunction build-PersistFunction build-NotifyFunction build-ApiFunction build-ReplayFunction:
	$(ARM64_ENV) $(GO) build $(LAMBDA_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/$(shell echo $(@:build-%Function=%) | tr A-Z a-z)
