# Compiler settings shared by every deepmr target.

add_library(deepmr_warnings INTERFACE)
target_compile_options(deepmr_warnings INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor>)

if(DEEPMR_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

# deepmr_add_layer(NAME SOURCES ... DEPS ...): one static library per layer, headers under include/.
function(deepmr_add_layer name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(deepmr_${name} STATIC ${ARG_SOURCES})
  add_library(deepmr::${name} ALIAS deepmr_${name})
  target_include_directories(deepmr_${name} PUBLIC
    "${PROJECT_SOURCE_DIR}/include" "${PROJECT_BINARY_DIR}/include")
  target_link_libraries(deepmr_${name} PUBLIC ${ARG_DEPS} PRIVATE deepmr_warnings)
  set_target_properties(deepmr_${name} PROPERTIES POSITION_INDEPENDENT_CODE ON)
endfunction()
