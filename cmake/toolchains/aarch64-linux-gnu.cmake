# Cross-compiles gatehouse for 64-bit ARM Linux with Debian's aarch64-linux-gnu GCC against a
# Debian 12 arm64 sysroot, which scripts/test-arm64 creates. Tests run under qemu-user.
#
# The sysroot is build/arm64-sysroot unless the environment variable GATEHOUSE_ARM64_SYSROOT
# names another folder. CMake reads this file again for every try_compile, so the setting
# comes from the environment rather than from a cache variable.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

if(DEFINED ENV{GATEHOUSE_ARM64_SYSROOT})
  set(gatehouse_arm64_sysroot "$ENV{GATEHOUSE_ARM64_SYSROOT}")
else()
  get_filename_component(gatehouse_arm64_sysroot "${CMAKE_CURRENT_LIST_DIR}/../../build/arm64-sysroot"
                         ABSOLUTE)
endif()
if(NOT EXISTS "${gatehouse_arm64_sysroot}/usr/include")
  message(FATAL_ERROR "arm64 sysroot not found at ${gatehouse_arm64_sysroot}: run scripts/test-arm64, "
                      "which creates it, or set GATEHOUSE_ARM64_SYSROOT to an existing one")
endif()
set(CMAKE_SYSROOT "${gatehouse_arm64_sysroot}")

# Libraries, headers and CMake packages come from the sysroot only; build tools (python3,
# pkg-config) come from the host.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# pkg-config reads only the sysroot's .pc files and prefixes the paths they contain with it.
set(ENV{PKG_CONFIG_SYSROOT_DIR} "${gatehouse_arm64_sysroot}")
set(ENV{PKG_CONFIG_LIBDIR}
    "${gatehouse_arm64_sysroot}/usr/lib/aarch64-linux-gnu/pkgconfig:${gatehouse_arm64_sysroot}/usr/share/pkgconfig")
unset(ENV{PKG_CONFIG_PATH})

# ctest runs the test binaries through qemu-user, which loads the dynamic linker and the
# shared libraries from the sysroot.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64-static -L "${gatehouse_arm64_sysroot}")
