# The build's provenance (see BuildStamp.cmake): the exact compile flags of the framework
# as one string, and what -march=native resolves to on this machine, known at configure
# time; the commit, dirty flag and diff hash are taken at build time by the
# cellzoo_build_stamp target (framework/CMakeLists.txt).
string(TOUPPER "${CMAKE_BUILD_TYPE}" _cellzoo_bt)
set(CELLZOO_BUILD_FLAGS "${CMAKE_CXX_FLAGS} ${CMAKE_CXX_FLAGS_${_cellzoo_bt}}")
if(CMAKE_CXX_STANDARD)
  string(APPEND CELLZOO_BUILD_FLAGS " -std=c++${CMAKE_CXX_STANDARD}")
endif()
list(JOIN CELLZOO_COMPILE_OPTIONS " " _cellzoo_opts)
string(APPEND CELLZOO_BUILD_FLAGS " ${_cellzoo_opts} -DEIGEN_DONT_PARALLELIZE")
string(REGEX REPLACE "  +" " " CELLZOO_BUILD_FLAGS "${CELLZOO_BUILD_FLAGS}")
string(STRIP "${CELLZOO_BUILD_FLAGS}" CELLZOO_BUILD_FLAGS)
set(CELLZOO_MARCH "")
if(CELLZOO_NATIVE AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  execute_process(COMMAND ${CMAKE_CXX_COMPILER} -march=native -Q --help=target
                  OUTPUT_VARIABLE _cellzoo_target ERROR_QUIET)
  if(_cellzoo_target MATCHES "\n *-march=[ \t]+([^ \t\n]+)")
    set(CELLZOO_MARCH "${CMAKE_MATCH_1}")
  endif()
endif()
if(CELLZOO_MARCH)
  message(STATUS "cellzoo compile flags: ${CELLZOO_BUILD_FLAGS} (-march=native is ${CELLZOO_MARCH})")
else()
  message(STATUS "cellzoo compile flags: ${CELLZOO_BUILD_FLAGS}")
endif()
