# Thin porcelain over CMake/ctest. `make demo` and `make test` are the two commands a new user runs.
BUILD   ?= build
JOBS    ?= $(shell nproc)
LRBENCH := $(BUILD)/apps/lrbench
# The project's data root (MNIST, CIFAR-10, AG News, Cora); Fashion-MNIST comes from Debian.
ifneq ($(wildcard ../shared/data),)
export LRBENCH_DATA ?= $(abspath ../shared/data)
endif

# libgomp and OpenBLAS otherwise spin while idle and hold a core the other needs (core/runtime.h).
export OMP_WAIT_POLICY ?= PASSIVE
export OPENBLAS_THREAD_TIMEOUT ?= 22

.PHONY: all deps configure build demo test test-fast test-slow torch2 test-torch2 regression fuzz bench fig1 table1 table2 table3 table4 report clean help
PROFILE ?= quick
SEEDS   ?= 1
CHECK   ?= 0
FUZZ_SECONDS ?= 60
# LAUNCHER=slurm: make tableN submits the table's cells as a Slurm job array and its report as a dependent job
# (tools/slurm_table.sh; SBATCH_ARGS, CPUS_PER_TASK) instead of running them here one after another.
LAUNCHER ?= local
TABLE_SH := $(if $(filter slurm,$(LAUNCHER)),tools/slurm_table.sh,tools/table.sh)

all: build

help:
	@echo "make demo       install deps, build, train+evaluate the demo (MLP, BP, Fashion-MNIST)"
	@echo "make test       install deps, build, run every ctest suite (fast + regression + e2e)"
	@echo "make test-fast  only the fast unit tests"
	@echo "make torch2     the second build, against LibTorch 2.x (PyPI's CUDA-enabled torch wheel) in build-torch2/"
	@echo "make test-torch2  every ctest suite against it (on the CPU; tools/gpu_smoke.sh on a machine with a GPU)"
	@echo "make bench      Google Benchmark programs (training-step throughput)"
	@echo "make fig1       the paper's Figure 1 (gradient quality probe on ResNet-5)"
	@echo "make table1     the paper's Table 1: train 8 cells, evaluate, report (PROFILE=quick|paper SEEDS=N)"
	@echo "make table2     the paper's Table 2: RNN/GRU/LSTM x BP/ES/LR on AG News, evaluate, report (same options)"
	@echo "make table3     the paper's Table 3: GCN and GAT x BP/ES/LR on Cora, edge attacks, report (same options)"
	@echo "make table4     the paper's Table 4: spiking LIF nets on MNIST/Fashion-MNIST x BP/ES/LR, attacks, report (same options)"
	@echo "                CHECK=1: exit 1 on a cell outside tolerance of the committed results / the paper (profile's check: line)"
	@echo "                LAUNCHER=slurm: submit the cells as a Slurm job array, the report as a dependent job"
	@echo "                Each writes results/tableN.csv, .md and .html (one self-contained page: table beside the paper,"
	@echo "                training curves, eps / edge-rate plots, every run's config, seed and commit)"
	@echo "make report     re-render those reports (CSV, Markdown, HTML) from the runs already there (PROFILE=...)"
	@echo "make fuzz       libFuzzer + ASan/UBSan on every parser for FUZZ_SECONDS each (default 60); make test replays"
	@echo "                the committed corpus tests/fuzz/corpus/ in that sanitizer build"
	@echo "make regression the CI regression tier alone (also part of make test): small cells of all four tables vs"
	@echo "                reports/expected/regression.csv (rewrite that with tools/update_expected.sh, never by hand)"

deps:
	@bash scripts/install-deps.sh

$(BUILD)/build.ninja: CMakeLists.txt
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release

configure: deps $(BUILD)/build.ninja

build: configure
	cmake --build $(BUILD) -j $(JOBS)

demo: build
	rm -rf runs/demo  # train refuses a directory that holds a run; the demo always starts afresh
	$(LRBENCH) train experiments/demo.yaml --out runs/demo
	$(LRBENCH) eval runs/demo

test: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

test-fast: build
	ctest --test-dir $(BUILD) -L fast --output-on-failure -j $(JOBS)

test-slow: build
	ctest --test-dir $(BUILD) -L 'regression|e2e' --output-on-failure

# The second build: LibTorch 2.x (PyPI's CUDA-enabled torch wheel, pinned in scripts/install-torch2.sh) in its
# own folder, tested on this machine's CPU. Its venv lives in the build folder, so `rm -rf build-torch2` resets it.
BUILD2 ?= build-torch2

torch2: deps
	@mkdir -p $(BUILD2) && rm -f $(BUILD2)/configure.log
	@root=$$(bash scripts/install-torch2.sh $(abspath $(BUILD2))/venv) && \
	  cmake -S . -B $(BUILD2) -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$$root" >$(BUILD2)/configure.log 2>&1 || \
	  { cat $(BUILD2)/configure.log; exit 1; }
	cmake --build $(BUILD2) -j $(JOBS)

# Every suite, the regression tier included: its bands hold for both builds (README).
test-torch2: torch2
	ctest --test-dir $(BUILD2) --output-on-failure -j $(JOBS)

regression: build
	bash tools/regression.sh $(LRBENCH) $(BUILD)/regression

fuzz: deps
	bash tools/fuzz.sh fuzz $(BUILD)/fuzz $(FUZZ_SECONDS)

# The step benchmarks of docs/SPEED.md (a few minutes): LR-WL, ES and BP on ResNet-5, LR-WL on VGG-8, the LSTM
# and SNN LR steps, each with GFLOP/s, its share of the GEMM ceiling and its peak RSS.
BENCH_ARGS = --benchmark_report_aggregates_only=true
bench: build
	$(BUILD)/bench/bench_lr_step --benchmark_filter='BM_LrWlStep/100/(100|10)/|BM_EsStep|BM_GemmCeiling/2048' $(BENCH_ARGS)
	$(BUILD)/bench/bench_eval --benchmark_filter='BM_VGG8_LrWlStep/10/' $(BENCH_ARGS)
	$(BUILD)/bench/bench_text --benchmark_filter='BM_LstmLrStep/100/1' $(BENCH_ARGS)
	$(BUILD)/bench/bench_snn --benchmark_filter='BM_SnnLrStep' $(BENCH_ARGS)
	$(BUILD)/bench/bench_train_step --benchmark_repetitions=3 $(BENCH_ARGS)

fig1: build
	bash tools/fig1.sh $(LRBENCH)

table1: build
	PROFILE=$(PROFILE) SEEDS=$(SEEDS) CHECK=$(CHECK) bash $(TABLE_SH) table1 $(LRBENCH)

table2: build
	PROFILE=$(PROFILE) SEEDS=$(SEEDS) CHECK=$(CHECK) bash $(TABLE_SH) table2 $(LRBENCH)

table3: build
	PROFILE=$(PROFILE) SEEDS=$(SEEDS) CHECK=$(CHECK) bash $(TABLE_SH) table3 $(LRBENCH)

table4: build
	PROFILE=$(PROFILE) SEEDS=$(SEEDS) CHECK=$(CHECK) bash $(TABLE_SH) table4 $(LRBENCH)

report: build
	PROFILE=$(PROFILE) bash tools/report.sh $(LRBENCH)

clean:
	rm -rf $(BUILD)
