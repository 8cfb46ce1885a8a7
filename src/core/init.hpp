// Seeded weight initialisation.
#pragma once
#include "core/rng.hpp"
#include "core/tensor.hpp"

namespace attnlens::init {

// Glorot/Xavier uniform: U(-a, a), a = sqrt(6 / (fan_in + fan_out)), for a [out, in] block.
void xavier_uniform(Eigen::Ref<ParamMatrix> block, Rng& rng);
// Orthogonal (Saxe et al. 2014): Q of the QR decomposition of a Gaussian matrix, sign-corrected.
void orthogonal(Eigen::Ref<ParamMatrix> block, Rng& rng);
void normal(Eigen::Ref<ParamMatrix> block, Rng& rng, double stddev);

}  // namespace attnlens::init
