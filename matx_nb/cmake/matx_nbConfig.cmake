# CMake package config for building C++ programs against the matx_nb runtime:
#   find_package(matx_nb CONFIG REQUIRED)   # -Dmatx_nb_DIR=$(python -m matx_nb --cmake-dir)
#   target_link_libraries(app PRIVATE matx_nb::runtime)
# The runtime is header-only; programs also need dlopen and threads.
if(EXISTS "${CMAKE_CURRENT_LIST_DIR}/../include/matx_nb/session.h")
  get_filename_component(MATX_NB_INCLUDE_DIR "${CMAKE_CURRENT_LIST_DIR}/../include" ABSOLUTE)
else()  # a source checkout: the headers are in runtime/include
  get_filename_component(MATX_NB_INCLUDE_DIR "${CMAKE_CURRENT_LIST_DIR}/../../runtime/include" ABSOLUTE)
endif()
find_package(Threads REQUIRED)
if(NOT TARGET matx_nb::runtime)
  add_library(matx_nb::runtime INTERFACE IMPORTED)
  set_target_properties(matx_nb::runtime PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${MATX_NB_INCLUDE_DIR}"
    INTERFACE_COMPILE_FEATURES cxx_std_17
    # lets a Session rebuild a saved op library made for another platform
    INTERFACE_COMPILE_DEFINITIONS "MATX_NB_INCLUDE_DIR=\"${MATX_NB_INCLUDE_DIR}\""
    INTERFACE_LINK_LIBRARIES "Threads::Threads;${CMAKE_DL_LIBS}")
endif()
set(matx_nb_FOUND TRUE)
