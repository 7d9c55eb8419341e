# The cellzoo SDK: what a cell plugin compiles and links against (docs/plugins.md).
#
# `cmake --install BUILD --prefix DIR` puts the public headers under DIR/include/cellzoo
# (the same "framework/..." include paths as inside the tree, so a cell file moves between
# a plugin and framework/cells/ unchanged), the static, position-independent library
# libcellzoo_sdk.a (cell base class, parameter and sequence layouts, registry, packed GEMM,
# gradient check, random numbers, "did you mean") and the package config behind
# find_package(cellzoo) + cellzoo::sdk. Nothing of sweep/, store/, train/ or cli/ is in it.
#
# The SDK identity (framework/cells/plugin.hpp) includes a hash of the headers below, so
# a plugin built against other headers is refused instead of crashing; CMake re-runs when
# one of them changes.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(CELLZOO_SDK_HEADERS
    framework/cells/cell.hpp
    framework/cells/gradcheck.hpp
    framework/cells/packed_gemm.hpp
    framework/cells/param_layout.hpp
    framework/cells/plugin.hpp
    framework/cells/registry.hpp
    framework/cells/sequence_layout.hpp
    framework/cells/state_history.hpp
    framework/util/blas.hpp
    framework/util/eigen.hpp
    framework/util/error.hpp
    framework/util/random.hpp)
set(CELLZOO_SDK_SOURCES
    framework/cells/cell.cpp
    framework/cells/gradcheck.cpp
    framework/cells/packed_gemm.cpp
    framework/cells/param_layout.cpp
    framework/cells/registry.cpp
    framework/cells/sequence_layout.cpp
    framework/util/blas.cpp
    framework/util/random.cpp
    framework/util/suggest.cpp)

set(_sdk_digest "")
foreach(_h IN LISTS CELLZOO_SDK_HEADERS)
  file(SHA256 ${PROJECT_SOURCE_DIR}/${_h} _sha)
  string(APPEND _sdk_digest "${_h} ${_sha}\n")
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/${_h})
endforeach()
string(SHA256 _sdk_digest "${_sdk_digest}")
string(SUBSTRING "${_sdk_digest}" 0 12 CELLZOO_SDK_HASH)
set(CELLZOO_GENERATED_DIR ${PROJECT_BINARY_DIR}/generated)
configure_file(${PROJECT_SOURCE_DIR}/cmake/sdk_version.hpp.in
               ${CELLZOO_GENERATED_DIR}/framework/cells/sdk_version.hpp @ONLY)

# Built from the same sources as cellzoo_cells, but position-independent (it is linked
# into shared libraries) and carrying only what a plugin needs.
list(TRANSFORM CELLZOO_SDK_SOURCES PREPEND ${PROJECT_SOURCE_DIR}/ OUTPUT_VARIABLE _sdk_src)
add_library(cellzoo_sdk STATIC ${_sdk_src})
set_target_properties(cellzoo_sdk PROPERTIES POSITION_INDEPENDENT_CODE ON EXPORT_NAME sdk)
target_compile_features(cellzoo_sdk PUBLIC cxx_std_20)
target_include_directories(cellzoo_sdk PUBLIC
  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}>
  $<BUILD_INTERFACE:${CELLZOO_GENERATED_DIR}>
  $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}/cellzoo>)
target_link_libraries(cellzoo_sdk PUBLIC Eigen3::Eigen ${CMAKE_DL_LIBS})
# A plugin must see Eigen as cellzoo does: the same vector width (hence -march=native when
# cellzoo has it) and no threads inside a run.
target_compile_definitions(cellzoo_sdk PUBLIC EIGEN_DONT_PARALLELIZE)
if(CELLZOO_NATIVE)
  target_compile_options(cellzoo_sdk PUBLIC -march=native)
endif()
target_compile_options(cellzoo_sdk PRIVATE
  $<TARGET_PROPERTY:cellzoo_options,INTERFACE_COMPILE_OPTIONS>)

install(TARGETS cellzoo_sdk EXPORT cellzooTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT sdk)
foreach(_h IN LISTS CELLZOO_SDK_HEADERS)
  get_filename_component(_dir ${_h} DIRECTORY)
  install(FILES ${PROJECT_SOURCE_DIR}/${_h}
          DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/cellzoo/${_dir} COMPONENT sdk)
endforeach()
install(FILES ${CELLZOO_GENERATED_DIR}/framework/cells/sdk_version.hpp
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/cellzoo/framework/cells COMPONENT sdk)
set(_cfg_dir ${CMAKE_INSTALL_LIBDIR}/cmake/cellzoo)
install(EXPORT cellzooTargets NAMESPACE cellzoo:: DESTINATION ${_cfg_dir} COMPONENT sdk)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/cellzooConfig.cmake.in
  ${PROJECT_BINARY_DIR}/cellzooConfig.cmake INSTALL_DESTINATION ${_cfg_dir})
# Exact: a plugin is only loaded by the cellzoo whose headers it was built against.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/cellzooConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY ExactVersion)
install(FILES ${PROJECT_BINARY_DIR}/cellzooConfig.cmake
              ${PROJECT_BINARY_DIR}/cellzooConfigVersion.cmake
        DESTINATION ${_cfg_dir} COMPONENT sdk)
