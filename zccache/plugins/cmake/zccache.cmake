# zccache.cmake: route every compile (and link) of this project through zccache.
#
#   list(APPEND CMAKE_MODULE_PATH "<output of: zccache cmake-module-dir>")
#   include(zccache)
#
# or, without editing the project (CMake 3.24+):
#   cmake -DCMAKE_PROJECT_TOP_LEVEL_INCLUDES="$(zccache cmake-module-dir)/zccache.cmake" ...
#
# Launchers the user set already are kept. ZCCACHE_PROGRAM may name the executable.
# Set ZCCACHE_LAUNCH_LINKS=OFF to leave links alone.

find_program(ZCCACHE_PROGRAM zccache)
option(ZCCACHE_LAUNCH_LINKS "Also pass links through zccache (counted, not cached)" ON)

if(ZCCACHE_PROGRAM)
  foreach(_zccache_lang C CXX OBJC OBJCXX)
    if(NOT CMAKE_${_zccache_lang}_COMPILER_LAUNCHER)
      set(CMAKE_${_zccache_lang}_COMPILER_LAUNCHER "${ZCCACHE_PROGRAM}")
    endif()
    if(ZCCACHE_LAUNCH_LINKS AND NOT CMAKE_VERSION VERSION_LESS 3.21 AND NOT CMAKE_${_zccache_lang}_LINKER_LAUNCHER)
      set(CMAKE_${_zccache_lang}_LINKER_LAUNCHER "${ZCCACHE_PROGRAM}")
    endif()
  endforeach()
  unset(_zccache_lang)
  message(STATUS "zccache: compiling through ${ZCCACHE_PROGRAM}")
else()
  message(STATUS "zccache: not found, compiling without it")
endif()
