# nginx compiles every source with $(CC) and one CFLAGS; C++-only flags go per object here.
for wa_pair_src in $WA_PAIR_SRCS
do
    wa_pair_obj="$NGX_OBJS/addon/`basename \`dirname $wa_pair_src\``/`basename $wa_pair_src .cpp`.$ngx_objext"
    echo "$wa_pair_obj: CFLAGS += -std=c++17 -Wextra -Wnon-virtual-dtor" >> $NGX_MAKEFILE
done
