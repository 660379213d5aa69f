# The fuzz targets (docs/fuzzing.md), one per parser: testbenches/fuzz/fuzz_<name>.cpp, seeds in
# corpus/<name>/, recorded findings in regressions/<name>/. Included by testbenches/fuzz/
# CMakeLists.txt (the libFuzzer build, SPRINT_FUZZ=ON) and testbenches/CMakeLists.txt (the replay
# tests of the normal build); scripts/fuzz.sh names the same list.
set(SPRINT_FUZZ_TARGETS expr spec npy ini tech_json tech_accelergy)

# The sweep spec and expression parsers alone: the rest of the sweep library (runner, database)
# is not what these targets fuzz, and it needs SQLite (and, for clang 14, C++20 lambda captures).
add_library(sprint_fuzz_sweep_parsers STATIC ${PROJECT_SOURCE_DIR}/platforms/sweep/expr.cpp
                                             ${PROJECT_SOURCE_DIR}/platforms/sweep/spec.cpp)
target_link_libraries(sprint_fuzz_sweep_parsers PUBLIC sprint_core PRIVATE yaml-cpp)
target_compile_options(sprint_fuzz_sweep_parsers PRIVATE ${SPRINT_WARNINGS})

# What a target links: the sweep parsers for expressions and specs, the platform for the rest (and
# an sc_main for the SystemC library it brings, no_kernel.cpp).
function(sprint_fuzz_link target name)
    if(name STREQUAL "expr" OR name STREQUAL "spec")
        target_link_libraries(${target} PRIVATE sprint_fuzz_sweep_parsers)
    else()
        target_sources(${target} PRIVATE ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/no_kernel.cpp)
        target_link_libraries(${target} PRIVATE sprint_sim)
    endif()
    target_compile_options(${target} PRIVATE ${SPRINT_WARNINGS})
endfunction()
