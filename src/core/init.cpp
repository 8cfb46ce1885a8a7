#include "core/init.hpp"

#include <cmath>

namespace attnlens::init {

void xavier_uniform(Eigen::Ref<ParamMatrix> block, Rng& rng) {
  const double bound = std::sqrt(6.0 / static_cast<double>(block.rows() + block.cols()));
  for (Eigen::Index r = 0; r < block.rows(); ++r)
    for (Eigen::Index c = 0; c < block.cols(); ++c) block(r, c) = static_cast<Scalar>(rng.uniform(-bound, bound));
}

void orthogonal(Eigen::Ref<ParamMatrix> block, Rng& rng) {
  const Eigen::Index rows = block.rows(), cols = block.cols();
  const bool tall = rows >= cols;
  Eigen::MatrixXd gaussian(tall ? rows : cols, tall ? cols : rows);
  for (Eigen::Index r = 0; r < gaussian.rows(); ++r)
    for (Eigen::Index c = 0; c < gaussian.cols(); ++c) gaussian(r, c) = rng.normal();
  Eigen::HouseholderQR<Eigen::MatrixXd> qr(gaussian);
  Eigen::MatrixXd q = qr.householderQ() * Eigen::MatrixXd::Identity(gaussian.rows(), gaussian.cols());
  // Make the decomposition unique (and the distribution uniform) by the signs of R's diagonal.
  const Eigen::MatrixXd r = qr.matrixQR();
  for (Eigen::Index c = 0; c < q.cols(); ++c)
    if (r(c, c) < 0) q.col(c) = -q.col(c);
  if (tall) block = q.cast<Scalar>();
  else block = q.transpose().cast<Scalar>();
}

void normal(Eigen::Ref<ParamMatrix> block, Rng& rng, double stddev) {
  for (Eigen::Index r = 0; r < block.rows(); ++r)
    for (Eigen::Index c = 0; c < block.cols(); ++c) block(r, c) = static_cast<Scalar>(stddev * rng.normal());
}

}  // namespace attnlens::init
