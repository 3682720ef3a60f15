#include <cstdio>

#include "app/commands.h"
#include "common/version.h"

namespace gh::app {

int run_version() {
  std::printf("gatehouse %s\n", kVersion);
  return 0;
}

}  // namespace gh::app
