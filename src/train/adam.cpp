#include "train/adam.hpp"

#include <cmath>

#include "core/error.hpp"

namespace attnlens {

void Adam::step(const std::vector<Parameter*>& parameters) {
  if (first_moment_.empty()) {
    for (const Parameter* p : parameters) {
      first_moment_.push_back(ParamMatrix::Zero(p->value.rows(), p->value.cols()));
      second_moment_.push_back(ParamMatrix::Zero(p->value.rows(), p->value.cols()));
    }
  }
  check(first_moment_.size() == parameters.size(), "adam: the parameter list changed between steps");
  check(weight_decays_.empty() || weight_decays_.size() == parameters.size(),
        "adam: one weight decay per parameter, or none");
  ++step_count_;
  const double correction1 = 1.0 - std::pow(options_.beta1, static_cast<double>(step_count_));
  const double correction2 = 1.0 - std::pow(options_.beta2, static_cast<double>(step_count_));
  const Scalar step_size = static_cast<Scalar>(options_.learning_rate / correction1);
  const Scalar b1 = static_cast<Scalar>(options_.beta1), b2 = static_cast<Scalar>(options_.beta2);
  const Scalar root_correction2 = static_cast<Scalar>(std::sqrt(correction2));
  const Scalar epsilon = static_cast<Scalar>(options_.epsilon);
  for (size_t k = 0; k < parameters.size(); ++k) {
    Parameter& p = *parameters[k];
    const double decay = weight_decays_.empty() ? options_.weight_decay : weight_decays_[k];
    const Scalar shrink = static_cast<Scalar>(1.0 - options_.learning_rate * decay);
    auto m = first_moment_[k].array();
    auto v = second_moment_[k].array();
    const auto g = p.grad.array();
    m = b1 * m + (1 - b1) * g;
    v = b2 * v + (1 - b2) * g.square();
    if (decay > 0) p.value *= shrink;
    p.value.array() -= step_size * m / (v.sqrt() / root_correction2 + epsilon);
  }
}

void Adam::restore(State state) {
  check(state.steps >= 0 && state.first_moment.size() == state.second_moment.size() &&
            (state.steps == 0) == state.first_moment.empty() && state.learning_rate > 0,
        "adam: an inconsistent optimiser state");
  step_count_ = state.steps;
  options_.learning_rate = state.learning_rate;
  first_moment_ = std::move(state.first_moment);
  second_moment_ = std::move(state.second_moment);
}

double clip_gradient_norm(const std::vector<Parameter*>& parameters, double max_norm) {
  double squared = 0.0;
  for (const Parameter* p : parameters) squared += static_cast<double>(p->grad.squaredNorm());
  const double norm = std::sqrt(squared);
  if (max_norm > 0 && norm > max_norm) {
    const Scalar scale = static_cast<Scalar>(max_norm / (norm + 1e-12));
    for (Parameter* p : parameters) p->grad *= scale;
  }
  return norm;
}

}  // namespace attnlens
