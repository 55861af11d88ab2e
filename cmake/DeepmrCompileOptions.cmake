# Compiler settings shared by every deepmr target.

add_library(deepmr_warnings INTERFACE)
target_compile_options(deepmr_warnings INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor>)

if(DEEPMR_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

# The fuzz build (tests/fuzz, scripts/fuzz): every deepmr source with libFuzzer's coverage
# instrumentation, ASan and UBSan; only clang has libFuzzer.
if(DEEPMR_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "DEEPMR_FUZZ=ON needs clang (libFuzzer), not ${CMAKE_CXX_COMPILER_ID}: "
                        "configure a separate build directory with CXX=clang++ (scripts/fuzz does)")
  endif()
  if(DEEPMR_SANITIZE)
    message(FATAL_ERROR "DEEPMR_FUZZ=ON already builds with ASan and UBSan; leave DEEPMR_SANITIZE off")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined -g)
  add_link_options(-fsanitize=address,undefined)
endif()

# deepmr_add_layer(NAME SOURCES ... DEPS ... [PRIVATE_DEPS ...]): one static library per layer,
# headers under include/. DEPS reach the users of the layer (its public headers use them);
# PRIVATE_DEPS are linked but their headers and defines stay inside the layer.
function(deepmr_add_layer name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(deepmr_${name} STATIC ${ARG_SOURCES})
  add_library(deepmr::${name} ALIAS deepmr_${name})
  target_include_directories(deepmr_${name} PUBLIC
    "${PROJECT_SOURCE_DIR}/include" "${PROJECT_BINARY_DIR}/include")
  target_link_libraries(deepmr_${name} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS} deepmr_warnings)
  set_target_properties(deepmr_${name} PROPERTIES POSITION_INDEPENDENT_CODE ON)
endfunction()

# The layers whose links are recorded for the layering test. The matrix of what each may use is
# written once, in tests/layering/check_layering.sh (ARCHITECTURE.md section 2).
set(DEEPMR_LAYERS common genome model ism stats dist store_reader store run app)

# Every target a target links, directly or through others (LINK_ONLY dependencies included).
function(deepmr_linked_closure target out)
  set(queue ${target})
  set(seen "")
  while(queue)
    list(POP_FRONT queue current)
    string(REGEX REPLACE "^\\$<LINK_ONLY:(.*)>$" "\\1" current "${current}")
    if(current IN_LIST seen OR NOT TARGET ${current})
      continue()
    endif()
    list(APPEND seen ${current})
    get_target_property(links ${current} INTERFACE_LINK_LIBRARIES)
    get_target_property(type ${current} TYPE)
    if(NOT type STREQUAL "INTERFACE_LIBRARY")
      get_target_property(private_links ${current} LINK_LIBRARIES)
      list(APPEND links ${private_links})
    endif()
    foreach(link ${links})
      if(link AND (NOT link MATCHES "^\\$<" OR link MATCHES "^\\$<LINK_ONLY:"))
        list(APPEND queue ${link})
      endif()
    endforeach()
  endwhile()
  list(REMOVE_ITEM seen ${target})
  set(${out} ${seen} PARENT_SCOPE)
endfunction()

# Writes <build>/layering/links.txt: per layer, the deepmr layers and the MPI, HDF5 and LibTorch
# targets it links. The compute core linking MPI or HDF5 fails the configure step at once; the whole
# matrix is checked by the layering test.
function(deepmr_record_layer_links)
  set(lines "")
  foreach(layer ${DEEPMR_LAYERS})
    if(NOT TARGET deepmr_${layer})
      continue()
    endif()
    deepmr_linked_closure(deepmr_${layer} closure)
    set(names "")
    foreach(t ${closure})
      if(t MATCHES "^deepmr_(.*)$" AND CMAKE_MATCH_1 IN_LIST DEEPMR_LAYERS)
        list(APPEND names ${CMAKE_MATCH_1})
      elseif(t STREQUAL "deepmr_mpi" OR t MATCHES "^MPI::")
        list(APPEND names "+mpi")
      elseif(t STREQUAL "deepmr_hdf5" OR t STREQUAL "deepmr_hdf5_api")
        list(APPEND names "+hdf5")
      elseif(t STREQUAL "deepmr_torch" OR t STREQUAL "torch")
        list(APPEND names "+torch")
      endif()
    endforeach()
    list(REMOVE_DUPLICATES names)
    list(SORT names)
    if(layer MATCHES "^(genome|model|ism|stats)$" AND ("+mpi" IN_LIST names OR "+hdf5" IN_LIST names))
      message(FATAL_ERROR "layering: deepmr_${layer} links MPI or HDF5; the compute core must not (${names})")
    endif()
    string(REPLACE ";" " " names "${names}")
    string(APPEND lines "${layer}: ${names}\n")
  endforeach()
  file(WRITE "${PROJECT_BINARY_DIR}/layering/links.txt" "${lines}")
endfunction()
