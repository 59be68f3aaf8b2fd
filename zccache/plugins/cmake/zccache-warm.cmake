# Included by project() once it has found the compilers (CMAKE_PROJECT_INCLUDE, which
# zccache.cmake sets when it is included before project()): the daemon asks them
# about themselves while the rest of configure runs.
if(COMMAND _zccache_warm)
  _zccache_warm()
endif()
