# Every external dependency of deepmr, found in one place. Run scripts/install-deps first on Debian 12.

find_package(Threads REQUIRED)
find_package(ZLIB REQUIRED)
find_package(OpenSSL REQUIRED COMPONENTS Crypto)  # SHA-256 of model files (provenance)
find_package(OpenMP REQUIRED COMPONENTS CXX)      # threads of the CPU kernels
find_package(Eigen3 3.3 REQUIRED NO_MODULE)
find_package(Boost 1.71 REQUIRED COMPONENTS program_options)
find_package(MPI REQUIRED COMPONENTS C)
# deepmr uses MPI's C API only; keep the deprecated C++ bindings out of every translation unit.
add_library(deepmr_mpi INTERFACE)
target_link_libraries(deepmr_mpi INTERFACE MPI::MPI_C)
target_compile_definitions(deepmr_mpi INTERFACE OMPI_SKIP_MPICXX=1 MPICH_SKIP_MPICXX=1)

# The store writes one file from many ranks through MPI-IO: only a parallel HDF5 build can.
set(HDF5_PREFER_PARALLEL TRUE)
find_package(HDF5 REQUIRED COMPONENTS C)
if(NOT HDF5_IS_PARALLEL)
  message(FATAL_ERROR
    "deepmr needs a parallel (MPI) build of HDF5, but found a serial one (${HDF5_LIBRARIES}). "
    "On Debian install libhdf5-openmpi-dev (scripts/install-deps does), or point HDF5_ROOT at a parallel build.")
endif()
# deepmr_hdf5_api: HDF5 without MPI's library (the store's serial reader; the parallel HDF5 header
# includes <mpi.h>, so MPI's include path comes along). deepmr_hdf5: the same with MPI linked.
add_library(deepmr_hdf5_api INTERFACE)
target_include_directories(deepmr_hdf5_api SYSTEM INTERFACE ${HDF5_INCLUDE_DIRS} ${MPI_C_INCLUDE_DIRS})
target_link_libraries(deepmr_hdf5_api INTERFACE ${HDF5_LIBRARIES})
target_compile_definitions(deepmr_hdf5_api INTERFACE ${HDF5_DEFINITIONS} OMPI_SKIP_MPICXX=1 MPICH_SKIP_MPICXX=1)
add_library(deepmr_hdf5 INTERFACE)
target_link_libraries(deepmr_hdf5 INTERFACE deepmr_hdf5_api deepmr_mpi)

# libBigWig (Debian's libbigwig-dev): the bigWig tracks of deepmr export. Its header declares the
# remote-file API with curl's types unless NOCURL is set; deepmr writes local files only, so it is
# compiled with NOCURL (the library's structures keep their layout: only a union member is hidden).
find_path(DEEPMR_BIGWIG_INCLUDE_DIR bigWig.h)
find_library(DEEPMR_BIGWIG_LIBRARY NAMES BigWig)
if(NOT DEEPMR_BIGWIG_INCLUDE_DIR OR NOT DEEPMR_BIGWIG_LIBRARY)
  message(FATAL_ERROR
    "deepmr needs libBigWig (bigWig.h and libBigWig.so) for 'deepmr export --format bigwig', but did not find it "
    "(bigWig.h: ${DEEPMR_BIGWIG_INCLUDE_DIR}, library: ${DEEPMR_BIGWIG_LIBRARY}). "
    "On Debian install libbigwig-dev (scripts/install-deps does), or set CMAKE_PREFIX_PATH to its prefix.")
endif()
add_library(deepmr_bigwig INTERFACE)
target_include_directories(deepmr_bigwig SYSTEM INTERFACE ${DEEPMR_BIGWIG_INCLUDE_DIR})
target_link_libraries(deepmr_bigwig INTERFACE ${DEEPMR_BIGWIG_LIBRARY})
target_compile_definitions(deepmr_bigwig INTERFACE NOCURL=1)

# LibTorch's config appends flags to CMAKE_CXX_FLAGS; keep them on the targets that use Torch instead.
set(_deepmr_saved_cxx_flags "${CMAKE_CXX_FLAGS}")
find_package(Torch REQUIRED)
set(CMAKE_CXX_FLAGS "${_deepmr_saved_cxx_flags}")
add_library(deepmr_torch INTERFACE)
target_include_directories(deepmr_torch SYSTEM INTERFACE ${TORCH_INCLUDE_DIRS})
target_link_libraries(deepmr_torch INTERFACE ${TORCH_LIBRARIES})
separate_arguments(_deepmr_torch_flags UNIX_COMMAND "${TORCH_CXX_FLAGS}")
target_compile_options(deepmr_torch INTERFACE ${_deepmr_torch_flags})

# Python with PyTorch, h5py and numpy (Debian's python3-*): fixture export and cross-checks.
find_program(DEEPMR_PYTHON NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
if(NOT DEEPMR_PYTHON)
  find_program(DEEPMR_PYTHON NAMES python3)
endif()

# Optional GPU support: compiled when found (AUTO) or required (ON).
set(DEEPMR_HAVE_CUDA OFF)
if(NOT DEEPMR_ENABLE_CUDA STREQUAL "OFF")
  find_package(CUDAToolkit QUIET)
  if(CUDAToolkit_FOUND)
    set(DEEPMR_HAVE_CUDA ON)
  elseif(DEEPMR_ENABLE_CUDA STREQUAL "ON")
    message(FATAL_ERROR "DEEPMR_ENABLE_CUDA=ON but no CUDA toolkit was found (set CUDAToolkit_ROOT).")
  endif()
endif()
set(DEEPMR_HAVE_NCCL OFF)
if(DEEPMR_HAVE_CUDA AND NOT DEEPMR_ENABLE_NCCL STREQUAL "OFF")
  find_path(NCCL_INCLUDE_DIR nccl.h HINTS ${CUDAToolkit_INCLUDE_DIRS} $ENV{NCCL_HOME}/include)
  find_library(NCCL_LIBRARY nccl HINTS ${CUDAToolkit_LIBRARY_DIR} $ENV{NCCL_HOME}/lib)
  if(NCCL_INCLUDE_DIR AND NCCL_LIBRARY)
    set(DEEPMR_HAVE_NCCL ON)
    add_library(deepmr_nccl INTERFACE)
    target_include_directories(deepmr_nccl SYSTEM INTERFACE ${NCCL_INCLUDE_DIR})
    target_link_libraries(deepmr_nccl INTERFACE ${NCCL_LIBRARY} CUDA::cudart)
  endif()
endif()
if(DEEPMR_ENABLE_NCCL STREQUAL "ON" AND NOT DEEPMR_HAVE_NCCL)
  message(FATAL_ERROR "DEEPMR_ENABLE_NCCL=ON but NCCL (nccl.h, libnccl) was not found next to CUDA or in NCCL_HOME.")
endif()
message(STATUS "deepmr: CUDA code paths ${DEEPMR_HAVE_CUDA} (DEEPMR_ENABLE_CUDA=${DEEPMR_ENABLE_CUDA}), "
               "NCCL reduction ${DEEPMR_HAVE_NCCL} (DEEPMR_ENABLE_NCCL=${DEEPMR_ENABLE_NCCL})")
