# Pick a Python that can import the analysis stack (Debian's python3-* packages live
# under /usr/bin/python3; the first python3 on PATH may be a pyenv without them).
# Override with -DCELLZOO_PYTHON=/path/to/python3.
set(CELLZOO_PYTHON_MODULES "h5py;numpy;pandas;scipy" CACHE STRING "Modules the project's Python must import")
set(CELLZOO_PYTHON "" CACHE FILEPATH "Python interpreter for scripts and tests")
if(NOT CELLZOO_PYTHON)
  find_package(Python3 COMPONENTS Interpreter QUIET)
  list(JOIN CELLZOO_PYTHON_MODULES "," _mods)
  foreach(_cand IN ITEMS "${Python3_EXECUTABLE}" /usr/bin/python3)
    if(_cand AND EXISTS "${_cand}")
      execute_process(COMMAND "${_cand}" -c "import ${_mods}"
                      RESULT_VARIABLE _rc OUTPUT_QUIET ERROR_QUIET)
      if(_rc EQUAL 0)
        set(CELLZOO_PYTHON "${_cand}" CACHE FILEPATH "Python interpreter for scripts and tests" FORCE)
        break()
      else()
        message(STATUS "Python candidate ${_cand}: cannot import ${_mods}")
      endif()
    endif()
  endforeach()
endif()
if(CELLZOO_PYTHON)
  message(STATUS "Project Python: ${CELLZOO_PYTHON}")
else()
  message(WARNING "No Python with ${CELLZOO_PYTHON_MODULES} found; Python tests will be skipped. "
                  "Pass -DCELLZOO_PYTHON=/path/to/python3.")
  set(CELLZOO_PYTHON python3)
endif()
