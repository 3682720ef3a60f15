# Every dependency comes from a Debian 12 package installed by scripts/bootstrap.
find_package(Threads REQUIRED)
find_package(Boost 1.81.0 EXACT REQUIRED CONFIG COMPONENTS json url)
find_package(OpenSSL 3 REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(fmt REQUIRED)
find_package(spdlog REQUIRED)
find_package(CLI11 REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(RE2 REQUIRED IMPORTED_TARGET re2)
pkg_check_modules(PCRE2 REQUIRED IMPORTED_TARGET libpcre2-8)
# Token-service storage: SQLite is the embedded default, libpq lets replicas share PostgreSQL.
find_package(SQLite3 REQUIRED)
pkg_check_modules(LIBPQ REQUIRED IMPORTED_TARGET libpq)

# Boost.Asio is header-only, so these definitions must match in every translation unit. The
# second one keeps eight freed operation and coroutine-frame blocks per thread for reuse in
# place of two: a proxied request has more of them in flight at once (nested coroutine frames),
# and with two slots most of them went back to malloc.
add_compile_definitions(BOOST_ASIO_NO_DEPRECATED BOOST_ASIO_RECYCLING_ALLOCATOR_CACHE_SIZE=8)

if(GATEHOUSE_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(GATEHOUSE_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()
