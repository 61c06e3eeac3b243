# ngx_wa_pair: `make run` (demo) and `make test` (all tests) are the two commands.
SHELL       := /bin/bash
BUILD       := build
NGX_SRC     := /usr/share/nginx/src
NGINX       := /usr/sbin/nginx
PYTHON      := /usr/bin/python3
MODULE      := $(BUILD)/ngx_http_wa_pair_module.so
NGX_TREE    := $(BUILD)/nginx
DEB_DIR     := $(BUILD)/deb

# src/nginx/ is the glue (nginx types); every other folder of src/ is the core.
CORE_SRCS   := $(sort $(shell find src -name '*.cpp' -not -path 'src/nginx/*'))
SRC_HDRS    := $(shell find src -name '*.hpp')
MODULE_SRCS := ngx_wa_pair_module.cpp $(shell find src -name '*.cpp') $(SRC_HDRS)
UNIT_SRCS   := $(sort $(shell find t/unit -name '*.cpp'))
UNIT_BIN    := $(BUILD)/unit/wa_pair_unit
CXXFLAGS    := -std=c++17 -O2 -g -Wall -Wextra -Werror -Isrc
JOBS        := $(shell nproc)
# Debian's own hardening flags, C-neutral, so the module matches the packaged nginx.
NGX_CC_OPT  := -g -O2 -fstack-protector-strong -Wformat -Werror=format-security -fPIC -D_FORTIFY_SOURCE=2
NGX_LD_OPT  := -Wl,-z,relro -Wl,-z,now -fPIC

.PHONY: all deps module unit test test-nginx run cluster bench bench-jwks bench-cluster capacity deb format clean

include fuzz/fuzz.mk
include tools/asan/asan.mk

all: module

deps:
	@tools/deps.sh

module: deps $(MODULE)

# nginx's build system, configured exactly like Debian's nginx (conf_flags has --with-compat).
$(NGX_TREE)/objs/Makefile: config config.make | $(BUILD)
	rm -rf $(NGX_TREE) && cp -a $(NGX_SRC) $(NGX_TREE)
	cd $(NGX_TREE) && source ./conf_flags && ./configure "$${NGX_CONF_FLAGS[@]}" \
	    --with-cc-opt="$(NGX_CC_OPT)" --with-ld-opt="$(NGX_LD_OPT)" \
	    --add-dynamic-module=$(CURDIR) > ../configure.log 2>&1 \
	    || { tail -20 ../configure.log; exit 1; }

$(MODULE): $(NGX_TREE)/objs/Makefile $(MODULE_SRCS)
	$(MAKE) -s -j$(JOBS) -C $(NGX_TREE) -f objs/Makefile modules
	install -m 0755 $(NGX_TREE)/objs/ngx_http_wa_pair_module.so $@.tmp && mv -f $@.tmp $@  # a loaded .so is never overwritten in place

$(BUILD):
	mkdir -p $(BUILD)

# GoogleTest for the core (no nginx types); one object per source so that make -j works.
# The test binary's own objects are built at -O1 without debug info: about half the compile
# time of -O2 -g, on the critical path of `make test`, and the same warnings as errors. The
# module keeps its -O2 -g (NGX_CC_OPT); UNIT_OPT=-O2 -g rebuilds the tests like the module
# (make clean first), e.g. to debug one.
UNIT_OPT    := -O1
UNIT_FLAGS  := $(filter-out -O2 -g,$(CXXFLAGS)) $(UNIT_OPT)
UNIT_OBJS   := $(patsubst %.cpp,$(BUILD)/unit/obj/%.o,$(CORE_SRCS) $(UNIT_SRCS))

$(BUILD)/unit/obj/%.o: %.cpp $(SRC_HDRS) $(wildcard t/unit/*.hpp)
	@mkdir -p $(dir $@)
	g++ $(UNIT_FLAGS) -It/unit -c $< -o $@

$(UNIT_BIN): $(UNIT_OBJS) | $(BUILD)
	mkdir -p $(dir $@)
	g++ $(UNIT_FLAGS) $(UNIT_OBJS) -o $@ -lgtest -lgtest_main -pthread -lcurl -lssl -lcrypto

unit: deps $(UNIT_BIN)
	$(PYTHON) t/unit/pyjwt_tokens.py > $(BUILD)/unit/pyjwt_tokens.txt
	WA_PAIR_PYJWT_TOKENS=$(BUILD)/unit/pyjwt_tokens.txt $(UNIT_BIN)

# Test::Nginx suites: the real Test::Nginx when installed, else the runner in t/lib.
test-nginx: module
	TEST_NGINX_BINARY=$(NGINX) TEST_NGINX_LOAD_MODULES=$(CURDIR)/$(MODULE) prove -r t

test: deps
	@tools/test.sh

run: module
	tools/run.sh

# Past one host on one machine: 2 edges, 3 owner hosts with their own engines (docs/scale-out.md).
cluster: module
	tools/cluster.sh

# What the module costs over plain nginx: wrk, interleaved rounds, ratios, callgrind.
bench: module
	bench/bench.sh

# `make bench-jwks`: keys from a JWKS URL under load, 2 workers, refreshes in the window.
bench-jwks: module
	bench/jwks_window.sh

# The Debian package (debian/rules: nginx-dev's dh_nginx and nginx_mod, on the module built
# above), every result in build/deb (debian/ is cleaned after); lintian must find nothing
# (debian/*.lintian-overrides).
deb: module
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)
	WA_PAIR_DEB_DIR=$(DEB_DIR) dpkg-buildpackage -us -uc -b --post-clean \
	    --buildinfo-file=$(DEB_DIR)/build.buildinfo --buildinfo-option=-u$(DEB_DIR) \
	    --changes-file=$(DEB_DIR)/build.changes --changes-option=-u$(DEB_DIR) \
	    > $(DEB_DIR)/build.log 2>&1 || { tail -30 $(DEB_DIR)/build.log; exit 1; }
	lintian --fail-on error,warning,info --info $(DEB_DIR)/build.changes \
	    2> >(grep -v '^running with root privileges is not recommended!$$' >&2)
	@ls $(DEB_DIR)/*.deb

# An edge in front of an owner host against proxy_pass alone on the same path (docs/scale-out.md).
bench-cluster: module
	bench/cluster.sh

# Zone bytes per device and the placement map's cost at an edge (docs/scale-out.md, capacity).
capacity: module
	bench/capacity.sh

# The C++ style (.clang-format), applied to every source of the module, its tests and fuzz targets.
format:
	clang-format-14 -i $$(git ls-files 'src/*.cpp' 'src/*.hpp' ngx_wa_pair_module.cpp 't/unit/*.cpp' 't/unit/*.hpp' 'fuzz/*.cpp' 'fuzz/*.hpp')

clean:
	rm -rf $(BUILD) t/servroot t/servroot-* run
