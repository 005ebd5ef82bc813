# rbee-go: make demo (the main job), make test (the whole suite).
GO       ?= go
BIN      := $(CURDIR)/bin
CMDS     := ./hive/cmd/rbee-hive ./keeper/cmd/rbee-keeper ./worker/cmd/llm-worker-rbee
# CI: the tiny matrix on this machine and on one private OpenSSH pool (about +10 s).
POOLS    ?= localhost:cpu,harness:cpu
TIMEOUT  ?= 80m
export PATH := $(BIN):$(PATH)

.PHONY: all deps build test features lint install demo signoff bench bench-worker bench-download bench-workers bench-ssh bench-matrix clean

all: build

deps:
	@./scripts/deps.sh

build:
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/ $(CMDS)

# The whole suite through gotestsum, JUnit XML under results/.
test: deps
	@mkdir -p results
	$(GO) tool gotestsum --format testname --junitfile results/junit.xml -- -timeout $(TIMEOUT) ./... -pools=$(POOLS)

features: deps
	$(GO) test -timeout $(TIMEOUT) -run TestFeatures -v . 

lint:
	@test -z "$$(gofmt -l .)" || { gofmt -l .; echo "gofmt: files above need formatting"; exit 1; }
	$(GO) vet ./...
	@GOFLAGS=-mod=mod $(GO) mod tidy -diff >/dev/null || { echo "go.mod/go.sum are not tidy: run go mod tidy"; exit 1; }
	@! $(GO) list -deps ./hive/... ./keeper/... ./worker/... | grep -q '/steps\(/\|$$\)' || { echo "a product package imports steps/"; exit 1; }
	GOOS=darwin GOARCH=arm64 CGO_ENABLED=0 $(GO) build -o /dev/null ./...
	GOOS=darwin GOARCH=arm64 CGO_ENABLED=0 $(GO) vet ./...

install:
	$(GO) install $(CMDS)

demo: deps build
	./scripts/demo.sh

# Checkpoint sign-off (README "Signing off a checkpoint"): make signoff CP=3 POOLS=mac:metal,workstation:cuda MODELS=qwen-0.5b [RESUME=1]
signoff: deps build
	@./scripts/signoff.sh "$(CP)" "$(if $(filter command line,$(origin POOLS)),$(POOLS))" "$(MODELS)" "$(RESUME)"

bench: bench-worker bench-download bench-workers bench-ssh bench-matrix

# The HTTP worker (GGUF mmapped) vs llama.cpp on the same TinyLlama-shaped files (BF16, F16, Q8_0,
# Q4_K_M), 2 threads each, 5 alternating rounds, medians, STREAM triad roofline: prints the table.
# Then the engine alone (safetensors mmapped): prefill and decode with the roofline measured alongside.
bench-worker: deps
	$(GO) test -run '^$$' -bench 'WorkerVsLlamaCpp' -benchtime 1x -timeout 90m ./worker/server/
	$(GO) test -run '^$$' -bench 'Prefill' -benchtime 3x -count 5 -timeout 60m ./worker/engine/
	$(GO) test -run '^$$' -bench 'Decode|Bandwidth' -benchtime 20x -count 5 -timeout 60m ./worker/engine/

# Whole `rbee-hive models download` processes vs curl on the hub mirror, alternately, 5 rounds, medians:
# 1 GiB on loopback; 256 MiB through Toxiproxy (40 MB/s per connection, 20 ms); 50% cuts + resume.
bench-download:
	$(GO) test -run '^$$' -bench 'Download(VsCurl|Capped|Resume)' -benchtime 1x -timeout 40m ./hive/hfhub/

# Healthy → spawn returns, and stop of a worker that honours SIGTERM (stand-in and real Go worker).
bench-workers:
	$(GO) test -run '^$$' -bench . -benchtime 10x -count 7 -timeout 20m ./hive/workers/

# rbee-keeper vs OpenSSH ssh (same loopback sshd, rotating order, medians), and fan-out to 4 pools vs 1.
bench-ssh:
	$(GO) test -run '^$$' -bench 'SSH' -benchtime 30x -count 1 -timeout 20m ./keeper/sshtransport/

# The tiny matrix on 1 harness pool vs 3 (alternately, medians): wall-time ratio and per-cell overhead.
bench-matrix:
	$(GO) test -run '^$$' -bench 'MatrixPools' -benchtime 5x -count 1 -timeout 30m ./keeper/matrix/

clean:
	rm -rf $(BIN) results
