# CTest fixture "plugin_example": what docs/plugins.md tells a researcher to do, run
# against this build. Installs the build into WORK/prefix (cmake --install), configures
# examples/plugins/mgu as a separate project that finds the SDK with find_package(cellzoo),
# and builds WORK/build/libmgu.so. Invoked as
#   cmake -DBUILD=<build dir> -DSOURCE=<source dir> -DWORK=<dir> [-DLAUNCHER=ccache]
#         -P build_example.cmake
foreach(var BUILD SOURCE WORK)
  if(NOT ${var})
    message(FATAL_ERROR "build_example.cmake needs -D${var}=...")
  endif()
endforeach()

function(run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${ARGN}\n${out}\n${err}")
  endif()
endfunction()

file(REMOVE_RECURSE ${WORK})
run("install" ${CMAKE_COMMAND} --install ${BUILD} --prefix ${WORK}/prefix)
foreach(f include/cellzoo/framework/cells/plugin.hpp include/cellzoo/framework/cells/sdk_version.hpp
          lib/cmake/cellzoo/cellzooConfig.cmake bin/cellzoo)
  if(NOT EXISTS ${WORK}/prefix/${f})
    message(FATAL_ERROR "cmake --install did not install ${f}")
  endif()
endforeach()
# Nothing of the rooms that are not the SDK's.
file(GLOB_RECURSE installed RELATIVE ${WORK}/prefix/include/cellzoo ${WORK}/prefix/include/cellzoo/*)
foreach(f IN LISTS installed)
  if(NOT f MATCHES "^framework/(cells|util)/")
    message(FATAL_ERROR "the SDK installs ${f}, which is not part of its surface")
  endif()
  # Every project header an installed header includes is installed too.
  file(STRINGS ${WORK}/prefix/include/cellzoo/${f} includes REGEX "^#include \"framework/")
  foreach(line IN LISTS includes)
    string(REGEX REPLACE "^#include \"([^\"]+)\".*" "\\1" header "${line}")
    if(NOT EXISTS ${WORK}/prefix/include/cellzoo/${header})
      message(FATAL_ERROR "the installed ${f} includes ${header}, which the SDK does not install "
                          "(add it to CELLZOO_SDK_HEADERS in cmake/CellzooSdk.cmake, or drop it)")
    endif()
  endforeach()
endforeach()

# Warnings are errors: the example must build cleanly with the flags the SDK hands it.
set(configure ${CMAKE_COMMAND} -S ${SOURCE}/examples/plugins/mgu -B ${WORK}/build
    -DCMAKE_PREFIX_PATH=${WORK}/prefix -DCMAKE_COMPILE_WARNING_AS_ERROR=ON)
if(LAUNCHER)
  list(APPEND configure -DCMAKE_CXX_COMPILER_LAUNCHER=${LAUNCHER})
endif()
run("configuring the example plugin" ${configure})
run("building the example plugin" ${CMAKE_COMMAND} --build ${WORK}/build)
if(NOT EXISTS ${WORK}/build/libmgu.so)
  message(FATAL_ERROR "the example plugin did not produce ${WORK}/build/libmgu.so")
endif()
message(STATUS "built ${WORK}/build/libmgu.so against the SDK installed in ${WORK}/prefix")
