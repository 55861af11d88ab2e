#include "deepmr/app/version.hpp"

#include <zlib.h>

#include <Eigen/Core>
#include <boost/version.hpp>
#include <sstream>

#include "deepmr/common/build_info.hpp"
#include "deepmr/dist/communicator.hpp"
#include "deepmr/model/network.hpp"
#include "deepmr/store/hdf5_version.hpp"

#ifdef DEEPMR_HAVE_CUDA
#include <cuda_runtime_api.h>
#endif
#ifdef DEEPMR_HAVE_NCCL
#include <nccl.h>
#endif

namespace deepmr::app {

std::string version_report() {
  std::ostringstream out;
  out << "deepmr " << build::version << " (" << build::build_type << ", " << build::compiler << ")\n";
  out << "  LibTorch " << model::libtorch_version() << "\n";
  out << "  MPI      " << dist::mpi_library_version() << " (MPI " << dist::mpi_standard_version() << ")\n";
  out << "  HDF5     " << store::hdf5_version() << "\n";
  out << "  Boost    " << BOOST_VERSION / 100000 << "." << BOOST_VERSION / 100 % 1000 << "." << BOOST_VERSION % 100
      << "\n";
  out << "  Eigen    " << EIGEN_WORLD_VERSION << "." << EIGEN_MAJOR_VERSION << "." << EIGEN_MINOR_VERSION << "\n";
  out << "  zlib     " << ZLIB_VERSION << "\n";
#ifdef DEEPMR_HAVE_CUDA
  out << "  CUDA     compiled in (runtime API " << CUDART_VERSION / 1000 << "." << CUDART_VERSION % 1000 / 10
      << ")\n";
#else
  out << "  CUDA     not compiled in\n";
#endif
#ifdef DEEPMR_HAVE_NCCL
  out << "  NCCL     compiled in (" << NCCL_MAJOR << "." << NCCL_MINOR << "." << NCCL_PATCH << ")\n";
#else
  out << "  NCCL     not compiled in\n";
#endif
  return out.str();
}

}  // namespace deepmr::app
