# Shared warning set; applied to every lrbench target.
function(lrb_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare)
  # In a unity build every source is #included by the batch file, so gcc takes a test's anonymous-namespace
  # fixture for one defined in a header and warns on each TEST_F; the warning guards headers, which unity hides.
  if(CMAKE_UNITY_BUILD)
    target_compile_options(${target} PRIVATE $<$<CXX_COMPILER_ID:GNU>:-Wno-subobject-linkage>)
  endif()
endfunction()

# A library of ordinary code (no self-registration).
function(lrb_add_library name)
  cmake_parse_arguments(A "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${A_SOURCES})
  target_link_libraries(${name} PUBLIC ${A_DEPS})
  lrb_warnings(${name})
endfunction()

# Plugin folders are OBJECT libraries: every object reaches the final link, so the
# static LRB_REGISTER lines inside them are never dropped by the linker.
function(lrb_add_plugin_lib name)
  cmake_parse_arguments(A "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} OBJECT ${A_SOURCES})
  target_link_libraries(${name} PUBLIC ${A_DEPS})
  target_precompile_headers(${name} REUSE_FROM lrb_core)
  lrb_warnings(${name})
endfunction()

# One GoogleTest binary per file; LABELS picks the ctest label (fast by default).
function(lrb_add_test name)
  cmake_parse_arguments(A "" "LABEL;TIMEOUT" "SOURCES;DEPS" ${ARGN})
  if(NOT A_LABEL)
    set(A_LABEL fast)
  endif()
  if(NOT A_TIMEOUT)
    set(A_TIMEOUT 300)
  endif()
  add_executable(${name} ${A_SOURCES})
  if(NOT A_DEPS)
    set(A_DEPS lrb_all)  # tests of one folder may pass a smaller set, e.g. lrb_core $<TARGET_OBJECTS:lrb_datasets>
  endif()
  target_link_libraries(${name} PRIVATE lrb_test_support GTest::gtest GTest::gtest_main ${A_DEPS})
  target_precompile_headers(${name} REUSE_FROM lrb_core)
  lrb_warnings(${name})
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS ${A_LABEL} TIMEOUT ${A_TIMEOUT}
                       ENVIRONMENT "LRB_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
endfunction()
