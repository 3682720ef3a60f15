# Warning flags apply to gatehouse's own code only: libraries link this interface target
# privately, so third-party headers included through -isystem stay quiet.
add_library(gatehouse_warnings INTERFACE)
target_compile_options(gatehouse_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align -Woverloaded-virtual
  -Wnull-dereference -Wimplicit-fallthrough -Wformat=2)
if(GATEHOUSE_WERROR)
  target_compile_options(gatehouse_warnings INTERFACE -Werror)
endif()
