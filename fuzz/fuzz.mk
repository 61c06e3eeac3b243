# Fuzz targets (included by the Makefile): libFuzzer with AddressSanitizer and
# UndefinedBehaviorSanitizer, clang from Debian, against the core sources only (no nginx types).
# The list of targets is fuzz/TARGETS; tools/fuzz.sh runs them.
FUZZ_CXX       := clang++
# FUZZ_OPT: -O1 -g for make fuzz's long runs; make test's short run builds its own copy at
# -O0 with line tables only (tools/fuzz.sh --quick): half the compile time, the same checks,
# stack traces that still name file and line.
FUZZ_OPT       := -g -O1
FUZZ_FLAGS     := -std=c++17 $(FUZZ_OPT) -fno-omit-frame-pointer -fsanitize=address,undefined \
                  -fno-sanitize-recover=undefined -Isrc -Ifuzz
FUZZ_TARGETS   := $(shell sed -e 's/\#.*//' fuzz/TARGETS | awk 'NF { print $$1 }')
FUZZ_DIR       := $(BUILD)/fuzz
FUZZ_BINS      := $(addprefix $(FUZZ_DIR)/bin/,$(FUZZ_TARGETS))
FUZZ_CORE_OBJS := $(patsubst src/%.cpp,$(FUZZ_DIR)/obj/%.o,$(CORE_SRCS))

.PHONY: fuzz fuzz-build fuzz-short

# Core objects get coverage instrumentation; only the targets link libFuzzer's main.
$(FUZZ_DIR)/obj/%.o: src/%.cpp $(SRC_HDRS)
	@mkdir -p $(dir $@)
	$(FUZZ_CXX) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_DIR)/bin/%: fuzz/%.cpp fuzz/check.hpp t/unit/json_oracle.hpp $(FUZZ_CORE_OBJS)
	@mkdir -p $(dir $@)
	$(FUZZ_CXX) $(FUZZ_FLAGS) -fsanitize=fuzzer $< $(FUZZ_CORE_OBJS) -o $@ -lssl -lcrypto

fuzz-build: $(FUZZ_BINS)

# FUZZ_SECONDS per target (default 120); prints execs and coverage per target.
fuzz: deps
	@tools/fuzz.sh $(or $(FUZZ_SECONDS),120)

fuzz-short: deps
	@tools/fuzz.sh --quick 3
