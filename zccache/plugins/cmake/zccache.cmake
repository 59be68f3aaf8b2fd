# zccache.cmake: route every compile (and link) of this project through zccache.
#
#   list(APPEND CMAKE_MODULE_PATH "<output of: zccache cmake-module-dir>")
#   include(zccache)
#
# or, without editing the project (CMake 3.24+):
#   cmake -DCMAKE_PROJECT_TOP_LEVEL_INCLUDES="$(zccache cmake-module-dir)/zccache.cmake" ...
#
# Launchers the user set already are kept. ZCCACHE_PROGRAM may name the executable.
# Links (CMAKE_<LANG>_LINKER_LAUNCHER, CMake 3.21+) and static archives (the ar and
# ranlib of CMake's archive rules, when this is included after project()) go through
# zccache too; set ZCCACHE_LAUNCH_LINKS=OFF to leave both alone.
#
# While CMake configures (3.19+), the daemon is started in the background, and once
# project() has found the compilers and archiver (and again at the end of configure)
# it asks them about themselves, so that the build's first compile and link wait for
# neither; set ZCCACHE_WARM=OFF to leave it.

find_program(ZCCACHE_PROGRAM zccache)
option(ZCCACHE_LAUNCH_LINKS "Also cache links and static archives" ON)
option(ZCCACHE_WARM "Start zccache's daemon at configure time and have it ask the compilers about themselves" ON)

function(_zccache_warm)
  get_property(_languages GLOBAL PROPERTY ENABLED_LANGUAGES)
  set(_tools "")
  foreach(_language IN LISTS _languages)
    if(IS_ABSOLUTE "${CMAKE_${_language}_COMPILER}" AND "${CMAKE_${_language}_COMPILER_LAUNCHER}" STREQUAL "${ZCCACHE_PROGRAM}")
      list(APPEND _tools "${CMAKE_${_language}_COMPILER}")
    endif()
  endforeach()
  if(_tools AND ZCCACHE_LAUNCH_LINKS AND IS_ABSOLUTE "${CMAKE_AR}")
    list(APPEND _tools "${CMAKE_AR}")
  endif()
  if(_tools)
    list(REMOVE_DUPLICATES _tools)
    get_property(_warmed GLOBAL PROPERTY _ZCCACHE_WARMED)
    if(NOT "${_tools}" STREQUAL "${_warmed}")
      set_property(GLOBAL PROPERTY _ZCCACHE_WARMED "${_tools}")
      execute_process(COMMAND "${ZCCACHE_PROGRAM}" start --background --warm ${_tools}
                      RESULT_VARIABLE _result OUTPUT_QUIET ERROR_QUIET)
    endif()
  endif()
endfunction()

if(ZCCACHE_PROGRAM)
  foreach(_zccache_lang C CXX OBJC OBJCXX)
    if(NOT CMAKE_${_zccache_lang}_COMPILER_LAUNCHER)
      set(CMAKE_${_zccache_lang}_COMPILER_LAUNCHER "${ZCCACHE_PROGRAM}")
    endif()
    if(ZCCACHE_LAUNCH_LINKS AND NOT CMAKE_VERSION VERSION_LESS 3.21 AND NOT CMAKE_${_zccache_lang}_LINKER_LAUNCHER)
      set(CMAKE_${_zccache_lang}_LINKER_LAUNCHER "${ZCCACHE_PROGRAM}")
    endif()
    if(ZCCACHE_LAUNCH_LINKS)
      # Before project() has enabled the language (CMAKE_PROJECT_TOP_LEVEL_INCLUDES),
      # the rules are defined here with CMake's own defaults, which it then keeps.
      foreach(_zccache_rule "ARCHIVE_CREATE;<CMAKE_AR> qc <TARGET> <LINK_FLAGS> <OBJECTS>"
                            "ARCHIVE_APPEND;<CMAKE_AR> q <TARGET> <LINK_FLAGS> <OBJECTS>"
                            "ARCHIVE_FINISH;<CMAKE_RANLIB> <TARGET>")
        list(GET _zccache_rule 0 _zccache_var)
        list(GET _zccache_rule 1 _zccache_default)
        set(_zccache_var CMAKE_${_zccache_lang}_${_zccache_var})
        if(NOT DEFINED ${_zccache_var})
          set(${_zccache_var} "\"${ZCCACHE_PROGRAM}\" ${_zccache_default}")
        elseif("${${_zccache_var}}" MATCHES "^<CMAKE_(AR|RANLIB)>")
          set(${_zccache_var} "\"${ZCCACHE_PROGRAM}\" ${${_zccache_var}}")
        endif()
      endforeach()
    endif()
  endforeach()
  unset(_zccache_lang)
  unset(_zccache_rule)
  unset(_zccache_var)
  unset(_zccache_default)
  if(ZCCACHE_WARM AND NOT CMAKE_VERSION VERSION_LESS 3.19)
    # started now, it comes up while CMake looks for the compilers; told them as soon
    # as project() has found them (the rest of configure, the build's first compiles
    # would wait for those questions), and again at the end for languages enabled later
    execute_process(COMMAND "${ZCCACHE_PROGRAM}" start --background RESULT_VARIABLE _zccache_result
                    OUTPUT_QUIET ERROR_QUIET)
    get_property(_zccache_languages GLOBAL PROPERTY ENABLED_LANGUAGES)
    if(_zccache_languages)
      _zccache_warm()  # included after project()
    elseif(NOT DEFINED CMAKE_PROJECT_INCLUDE)
      set(CMAKE_PROJECT_INCLUDE "${CMAKE_CURRENT_LIST_DIR}/zccache-warm.cmake")
    endif()
    unset(_zccache_languages)
    cmake_language(DEFER DIRECTORY "${CMAKE_SOURCE_DIR}" CALL _zccache_warm)
  endif()
  message(STATUS "zccache: compiling through ${ZCCACHE_PROGRAM}")
else()
  message(STATUS "zccache: not found, compiling without it")
endif()
