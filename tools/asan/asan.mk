# `make asan` (included by the Makefile): a second copy of the module built with
# AddressSanitizer and UndefinedBehaviorSanitizer by the same nginx configure, and the whole
# Test::Nginx suite run against it in the stock nginx (tools/asan/run.sh).
ASAN_BUILD  := $(BUILD)/asan
ASAN_TREE   := $(ASAN_BUILD)/nginx
ASAN_MODULE := $(ASAN_BUILD)/ngx_http_wa_pair_module.so
# -O1 and frame pointers for readable stacks; every UB report is fatal (the worker aborts and
# the report file names it). No _FORTIFY_SOURCE: ASan's own checks of memcpy & co. replace it.
ASAN_CC_OPT := -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
               -fno-sanitize-recover=undefined -fPIC
ASAN_LD_OPT := -Wl,-z,relro -Wl,-z,now -fPIC -fsanitize=address,undefined

.PHONY: asan asan-module

$(ASAN_TREE)/objs/Makefile: config config.make
	mkdir -p $(ASAN_BUILD) && rm -rf $(ASAN_TREE) && cp -a $(NGX_SRC) $(ASAN_TREE)
	cd $(ASAN_TREE) && source ./conf_flags && ./configure "$${NGX_CONF_FLAGS[@]}" \
	    --with-cc-opt="$(ASAN_CC_OPT)" --with-ld-opt="$(ASAN_LD_OPT)" \
	    --add-dynamic-module=$(CURDIR) > ../configure.log 2>&1 \
	    || { tail -20 ../configure.log; exit 1; }

$(ASAN_MODULE): $(ASAN_TREE)/objs/Makefile $(MODULE_SRCS)
	$(MAKE) -s -j$(JOBS) -C $(ASAN_TREE) -f objs/Makefile modules
	install -m 0755 $(ASAN_TREE)/objs/ngx_http_wa_pair_module.so $@.tmp && mv -f $@.tmp $@

asan-module: deps $(ASAN_MODULE)

asan: asan-module
	@tools/asan/run.sh

# `make valgrind`: the suite under valgrind memcheck (tools/valgrind.sh).
.PHONY: valgrind
valgrind: module
	@tools/valgrind.sh

# `make faults`: load while the backend fails, then reload and quit under load
# (tools/faults.sh); `make soak`: 1,000,000 requests through the full path (tools/soak.sh).
.PHONY: faults soak
faults: deps
	@tools/faults.sh

soak: deps
	@tools/soak.sh
