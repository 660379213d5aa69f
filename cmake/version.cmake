# Writes OUT, a header defining SPRINT_VERSION (VERSION) and SPRINT_GIT_COMMIT (git describe of
# the source tree SRC), and touches it only when its text changes, so a build after a new commit
# records that commit without recompiling anything else.
#   cmake -DSRC=<source dir> -DOUT=<header> -DVERSION=<x.y.z> -P version.cmake
execute_process(COMMAND git -C "${SRC}" describe --always --dirty --abbrev=12
    OUTPUT_VARIABLE commit OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR commit STREQUAL "")
    set(commit "unknown")
endif()
file(WRITE "${OUT}.tmp"
    "#pragma once\n#define SPRINT_VERSION \"${VERSION}\"\n#define SPRINT_GIT_COMMIT \"${commit}\"\n")
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different "${OUT}.tmp" "${OUT}")
file(REMOVE "${OUT}.tmp")
