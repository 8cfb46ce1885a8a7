// Attention of a decoder state (the query) over encoder states (the memory), with the
// source padding masked out:
//   additive / Bahdanau et al. 2014:  e_j = vᵀ tanh(W q + b + U h_j)
//   dot      / Luong et al. 2015:     e_j = qᵀ h_j              (query size = memory size)
//   general  / Luong et al. 2015:     e_j = qᵀ W_a h_j
//   α = softmax over the real source positions j (exactly 0 on padding), context = Σ_j α_j h_j.
// The key projections (U h_j, W_a h_j) do not depend on the query, so prepare() computes
// them once per source batch; forward() is then one decoder step. Memory is time-major,
// [memory, L*B] with column j*B + b, like every sequence in the engine.
#pragma once
#include <string>

#include "layers/module.hpp"

namespace attnlens {

enum class AttentionKind { Additive, Dot, General };
AttentionKind attention_kind_from_string(const std::string& name);  // "additive" | "dot" | "general"
std::string to_string(AttentionKind kind);

class DecoderAttention : public Module {
 public:
  struct Memory {
    const Matrix* values = nullptr;  // [M, L*B], owned by the caller, must outlive the Memory
    Matrix keys;                     // [A or D, L*B]; for dot attention a copy of the values
    int steps = 0, batch = 0;
    std::vector<int> lengths;
  };
  struct StepCache {
    Matrix query;    // [D, B]
    Matrix weights;  // [L, B], zero on padding
    Matrix hidden;   // additive: tanh(W q + b + U h_j), [A, L*B]
  };

  DecoderAttention() = default;
  // attention_size is used by additive attention only.
  DecoderAttention(const std::string& prefix, AttentionKind kind, int query_size, int memory_size, int attention_size);
  void init(Rng& rng);
  AttentionKind kind() const { return kind_; }

  void prepare(const Matrix& values, int steps, int batch, const std::vector<int>& lengths, Memory& memory) const;
  // query [D, B] -> context [M, B]; cache.weights holds α.
  void forward(const Memory& memory, const Matrix& query, Matrix& context, StepCache& cache) const;
  // Accumulates dL/d(query) into dquery, dL/d(keys) into dkeys, dL/d(values) into dvalues
  // (all pre-sized and zeroed by the caller) and the parameter gradients.
  void backward(const Memory& memory, const StepCache& cache, const Matrix& dcontext, Matrix& dquery, Matrix& dkeys,
                Matrix& dvalues);
  // After every step's backward: dL/d(keys) -> dL/d(values) (+= into dvalues) and the key projection's gradient.
  void backward_keys(const Memory& memory, const Matrix& dkeys, Matrix& dvalues);
  std::vector<Parameter*> parameters() override;

  Parameter query_weight;  // additive: W [A, D]
  Parameter query_bias;    // additive: b [A]
  Parameter key_weight;    // additive: U [A, M]; general: W_a [D, M]
  Parameter score_weight;  // additive: v [1, A]

 private:
  AttentionKind kind_ = AttentionKind::Additive;
};

}  // namespace attnlens
