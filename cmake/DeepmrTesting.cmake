# Test registration helpers. Every test is a GoogleTest executable registered with CTest.
include(GoogleTest)
find_package(GTest REQUIRED)

# Open MPI refuses root and more ranks than cores unless told; tests run as root in CI on 2 cores.
execute_process(COMMAND ${MPIEXEC_EXECUTABLE} --version OUTPUT_VARIABLE _deepmr_mpiexec_version ERROR_QUIET)
set(DEEPMR_MPIEXEC_FLAGS "" CACHE STRING "Extra flags for mpiexec in tests")
if(_deepmr_mpiexec_version MATCHES "Open MPI|OpenRTE" AND NOT DEEPMR_MPIEXEC_FLAGS)
  set(DEEPMR_MPIEXEC_FLAGS --oversubscribe)
endif()
# deepmr_timeout(VAR SECONDS): a test's timeout, scaled for sanitizer builds, whose processes start
# several times slower (scripts/sanitize: the slow unwinder records every allocation's stack).
if(DEEPMR_SANITIZE)
  set(DEEPMR_TIMEOUT_SCALE 3)
else()
  set(DEEPMR_TIMEOUT_SCALE 1)
endif()
# The Python suites scale their per-command limits by DEEPMR_TIMEOUT_SCALE as CTest scales theirs.
set(DEEPMR_TEST_ENVIRONMENT OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
    OMP_NUM_THREADS=1 "DEEPMR_PYTHON=${DEEPMR_PYTHON}" "DEEPMR_TIMEOUT_SCALE=${DEEPMR_TIMEOUT_SCALE}")
function(deepmr_timeout var seconds)
  math(EXPR scaled "${seconds} * ${DEEPMR_TIMEOUT_SCALE}")
  set(${var} ${scaled} PARENT_SCOPE)
endfunction()

# deepmr_add_test(name SOURCES ... DEPS ... [LABELS ...] [TIMEOUT s] [FIXTURES f ...])
function(deepmr_add_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;DEPS;LABELS;FIXTURES" ${ARGN})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  deepmr_timeout(ARG_TIMEOUT ${ARG_TIMEOUT})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main deepmr_warnings)
  target_compile_definitions(${name} PRIVATE
    DEEPMR_SOURCE_DIR="${PROJECT_SOURCE_DIR}" DEEPMR_BINARY_DIR="${PROJECT_BINARY_DIR}"
    DEEPMR_PYTHON="${DEEPMR_PYTHON}")
  if(ARG_FIXTURES)
    # CTest resolves fixtures before it runs discovery scripts: a test that needs a fixture is
    # registered whole, as one CTest test.
    add_test(NAME ${name} COMMAND ${name})
    set_tests_properties(${name} PROPERTIES LABELS "unit;${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT}
      ENVIRONMENT "${DEEPMR_TEST_ENVIRONMENT}" FIXTURES_REQUIRED "${ARG_FIXTURES}")
    return()
  endif()
  # Listing a test binary runs LibTorch's static initialisation: seconds on a loaded machine, more
  # under the sanitizers' full stack unwinding (scripts/sanitize); the default 5 s is too tight.
  gtest_discover_tests(${name} DISCOVERY_MODE PRE_TEST DISCOVERY_TIMEOUT 120
    PROPERTIES LABELS "unit;${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT} ENVIRONMENT "${DEEPMR_TEST_ENVIRONMENT}")
endfunction()

# deepmr_add_mpi_test(name SOURCES ... DEPS ... RANKS 1 2 3 [LABELS ...] [TIMEOUT s])
# One CTest test per rank count; the shared main makes all ranks agree on pass or fail.
function(deepmr_add_mpi_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;DEPS;RANKS;LABELS" ${ARGN})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  deepmr_timeout(ARG_TIMEOUT ${ARG_TIMEOUT})
  add_executable(${name} ${ARG_SOURCES} "${PROJECT_SOURCE_DIR}/tests/support/mpi_test_main.cpp")
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} deepmr_dist GTest::gtest deepmr_warnings)
  target_compile_definitions(${name} PRIVATE
    DEEPMR_SOURCE_DIR="${PROJECT_SOURCE_DIR}" DEEPMR_BINARY_DIR="${PROJECT_BINARY_DIR}"
    DEEPMR_PYTHON="${DEEPMR_PYTHON}")
  foreach(ranks ${ARG_RANKS})
    add_test(NAME ${name}.np${ranks}
      COMMAND ${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG} ${ranks} ${DEEPMR_MPIEXEC_FLAGS}
              ${MPIEXEC_PREFLAGS} $<TARGET_FILE:${name}> ${MPIEXEC_POSTFLAGS})
    set_tests_properties(${name}.np${ranks} PROPERTIES
      LABELS "mpi;${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT} PROCESSORS ${ranks}
      ENVIRONMENT "${DEEPMR_TEST_ENVIRONMENT}")
  endforeach()
endfunction()
