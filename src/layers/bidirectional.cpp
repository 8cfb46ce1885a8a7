#include "layers/bidirectional.hpp"

#include "core/error.hpp"

namespace attnlens {

Bidirectional::Bidirectional(std::unique_ptr<SequenceLayer> forward_layer, std::unique_ptr<SequenceLayer> reverse_layer,
                             Copier copy)
    : forward_(std::move(forward_layer)), reverse_(std::move(reverse_layer)), copy_(copy) {
  check(forward_ && reverse_, "bidirectional: both directions are required");
}

Bidirectional::Bidirectional(const Bidirectional& other)
    : SequenceLayerOf(other),
      forward_(other.copy_of(other.forward_)),
      reverse_(other.copy_of(other.reverse_)),
      copy_(other.copy_) {}

Bidirectional& Bidirectional::operator=(const Bidirectional& other) {
  if (this != &other) {
    SequenceLayerOf::operator=(other);
    forward_ = other.copy_of(other.forward_);
    reverse_ = other.copy_of(other.reverse_);
    copy_ = other.copy_;
  }
  return *this;
}

std::unique_ptr<SequenceLayer> Bidirectional::copy_of(const std::unique_ptr<SequenceLayer>& layer) const {
  if (!layer) return nullptr;
  check(copy_ != nullptr, "bidirectional: this build of attnlens copies no models (training does, in the full engine)");
  return copy_(*layer);
}

void Bidirectional::init(Rng& rng) {
  forward_->init(rng);
  reverse_->init(rng);
}

int Bidirectional::output_channels() const { return forward_->output_channels() + reverse_->output_channels(); }

void Bidirectional::forward_impl(const SequenceBatch& in, SequenceBatch& out) {
  if (!forward_->forward_with(*reverse_, in, forward_out_, reverse_out_)) {  // together where they can (inference)
    forward_->forward(in, forward_out_);
    reverse_->forward(in, reverse_out_);
  }
  out.steps = in.steps;
  out.batch = in.batch;
  out.lengths = in.lengths;
  out.values.resize(output_channels(), in.values.cols());
  out.values.topRows(forward_out_.values.rows()) = forward_out_.values;
  out.values.bottomRows(reverse_out_.values.rows()) = reverse_out_.values;
}

void Bidirectional::backward_impl(const SequenceBatch& grad_out, SequenceBatch* grad_in) {
  const Eigen::Index forward_rows = forward_->output_channels();
  grad_half_ = grad_out;
  grad_half_.values = grad_out.values.topRows(forward_rows);
  forward_->backward(grad_half_, grad_in);
  grad_half_.values = grad_out.values.bottomRows(grad_out.values.rows() - forward_rows);
  reverse_->backward(grad_half_, grad_in ? &grad_in_reverse_ : nullptr);
  if (grad_in) grad_in->values += grad_in_reverse_.values;
}

std::vector<Parameter*> Bidirectional::parameters() {
  auto params = forward_->parameters();
  for (auto* p : reverse_->parameters()) params.push_back(p);
  return params;
}

}  // namespace attnlens
