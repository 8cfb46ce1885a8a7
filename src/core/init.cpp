#include "core/init.hpp"

#include <cmath>

#include "core/error.hpp"

namespace attnlens::init {

// An engine without gradients (the page's small module) cannot train, so it never initialises
// weights: every model it runs is loaded from a file. Its initialisers only refuse.
#if !ATTNLENS_GRADIENTS
void xavier_uniform(Eigen::Ref<ParamMatrix>, Rng&) { throw Error("weight initialisation needs the engine with gradients"); }
void orthogonal(Eigen::Ref<ParamMatrix>, Rng&) { throw Error("weight initialisation needs the engine with gradients"); }
void normal(Eigen::Ref<ParamMatrix>, Rng&, double) { throw Error("weight initialisation needs the engine with gradients"); }
#else

void xavier_uniform(Eigen::Ref<ParamMatrix> block, Rng& rng) {
  const double bound = std::sqrt(6.0 / static_cast<double>(block.rows() + block.cols()));
  for (Eigen::Index r = 0; r < block.rows(); ++r)
    for (Eigen::Index c = 0; c < block.cols(); ++c) block(r, c) = static_cast<Scalar>(rng.uniform(-bound, bound));
}

void orthogonal(Eigen::Ref<ParamMatrix> block, Rng& rng) {
  const Eigen::Index rows = block.rows(), cols = block.cols();
  const bool tall = rows >= cols;
  Eigen::MatrixXd q(tall ? rows : cols, tall ? cols : rows);
  for (Eigen::Index r = 0; r < q.rows(); ++r)
    for (Eigen::Index c = 0; c < q.cols(); ++c) q(r, c) = rng.normal();
  // Q of the QR decomposition with R's diagonal positive (unique, so uniformly distributed), by
  // Gram–Schmidt with re-orthogonalisation in double precision: the same Q a Householder QR with
  // sign correction gives, without linking a dense decomposition into the inference module.
  for (Eigen::Index c = 0; c < q.cols(); ++c) {
    for (int pass = 0; pass < 2; ++pass)
      for (Eigen::Index k = 0; k < c; ++k) q.col(c) -= q.col(k).dot(q.col(c)) * q.col(k);
    q.col(c) /= q.col(c).norm();
  }
  if (tall) block = q.cast<Scalar>();
  else block = q.transpose().cast<Scalar>();
}

void normal(Eigen::Ref<ParamMatrix> block, Rng& rng, double stddev) {
  for (Eigen::Index r = 0; r < block.rows(); ++r)
    for (Eigen::Index c = 0; c < block.cols(); ++c) block(r, c) = static_cast<Scalar>(stddev * rng.normal());
}
#endif

}  // namespace attnlens::init
