# The git commit is recorded in every results file; unknown outside a checkout.
execute_process(COMMAND git rev-parse --short=12 HEAD
                WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
                OUTPUT_VARIABLE CELLZOO_GIT_COMMIT OUTPUT_STRIP_TRAILING_WHITESPACE
                ERROR_QUIET RESULT_VARIABLE _git_rc)
if(NOT _git_rc EQUAL 0 OR NOT CELLZOO_GIT_COMMIT)
  set(CELLZOO_GIT_COMMIT "unknown")
endif()
