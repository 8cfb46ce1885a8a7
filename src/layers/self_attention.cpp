#include "layers/self_attention.hpp"

#include <cmath>

#include "core/error.hpp"
#include "core/init.hpp"
#include "core/kernels.hpp"

namespace attnlens {

MultiHeadSelfAttention::MultiHeadSelfAttention(const std::string& prefix, int channels, int heads)
    : in_proj_weight(prefix + ".in_proj_weight", {3 * channels, channels}),
      in_proj_bias(prefix + ".in_proj_bias", {3 * channels}),
      out_proj(prefix + ".out_proj", channels, channels),
      channels_(channels),
      heads_(heads) {
  check(heads > 0 && channels % heads == 0, prefix + ": " + std::to_string(channels) + " channels do not split into " +
                                                std::to_string(heads) + " heads");
}

void MultiHeadSelfAttention::init(Rng& rng) {
  init::xavier_uniform(in_proj_weight.value, rng);
  in_proj_bias.value.setZero();
  out_proj.init(rng);
}

std::vector<Parameter*> MultiHeadSelfAttention::parameters() {
  return {&in_proj_weight, &in_proj_bias, &out_proj.weight, &out_proj.bias};
}

namespace {
using StridedColumns = Eigen::Map<Matrix, 0, Eigen::OuterStride<>>;
// Steps first … first + length − 1 of sample b in a time-major [rows, T*B] matrix, as a
// [rows, length] view.
StridedColumns sample_columns(Matrix& m, int b, int batch, int length, int first = 0) {
  return StridedColumns(m.data() + (static_cast<Eigen::Index>(first) * batch + b) * m.rows(), m.rows(), length,
                        Eigen::OuterStride<>(m.rows() * batch));
}
// Adds what each key receives from a block of queries to `received` [keys]: their attention
// summed, column j of `a` (query j's exponentials) times inverse[j] (1 / their sum): a GEMV,
// received += a · inverse, whose accumulators stay in registers across the block's columns.
void add_received(const Matrix& a, const Scalar* inverse, Scalar* received) {
  kernels::gemv_accumulate(static_cast<int>(a.rows()), static_cast<int>(a.cols()), a.data(), inverse, received);
}
}  // namespace

// ForwardOnly: kQueryBlock queries at a time (their scores, L × kQueryBlock, stay in the L2 cache
// for a text of a few thousand tokens). Each query's column is computed alike in any block, so the
// output is the kept forward's to the bit.
constexpr int kQueryBlock = 64;

// A kept forward holds every (sample, head)'s L × L attention for backward (gradients, attention
// rollout): memory grows as L². A text needing more than this much per layer is refused by name,
// with the longest text that fits, before anything is allocated (a wasm module has 2 GB in all).
// A batch of shorter texts may still need more, and runs out of memory as a clear error.
#ifdef __EMSCRIPTEN__
constexpr double kKeptAttentionBytes = 512.0 * (1 << 20);
#else
constexpr double kKeptAttentionBytes = 8.0 * (1 << 30);
#endif

namespace {
int longest_kept(int heads) {
  return static_cast<int>(std::sqrt(kKeptAttentionBytes / (heads * static_cast<double>(sizeof(Scalar)))));
}

void check_kept_attention(const std::string& name, int heads, const SequenceBatch& x) {
  int longest = 0;
  for (int b = 0; b < x.batch; ++b) longest = std::max(longest, std::min(x.lengths[static_cast<size_t>(b)], x.steps));
  if (longest <= longest_kept(heads)) return;
  const double bytes = static_cast<double>(longest) * longest * heads * sizeof(Scalar);
  const auto megabytes = [](double b) {  // to a tenth (no iostreams in the wasm modules)
    const auto tenths = std::llround(b / (1 << 20) * 10);
    return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10) + " MiB";
  };
  throw Error(name + ": keeping the attention of a text of " + std::to_string(longest) + " tokens (" + std::to_string(heads) +
              " heads, L × L each, for gradients or attention rollout) needs " + megabytes(bytes) +
              " in this layer, more than the " + megabytes(kKeptAttentionBytes) + " allowed: a text may have at most " +
              std::to_string(longest_kept(heads)) + " tokens here; predict() and the attention each word receives read any length");
}
}  // namespace

int MultiHeadSelfAttention::longest_kept_text() const { return longest_kept(heads_); }

void MultiHeadSelfAttention::forward(const SequenceBatch& x, Matrix& out, Workspace* shared) {
  check_with(x.values.rows() == channels_, [&] {
    return in_proj_weight.name + ": input has wrong channel count";
  });
  const int T = x.steps, B = x.batch, E = channels_, d = E / heads_;
  const Scalar scale = static_cast<Scalar>(1.0 / std::sqrt(static_cast<double>(d)));
  if (!ForwardOnly::active())  // before anything changes here: the attention keeps the last forward's matrices
    check_kept_attention(in_proj_weight.name.substr(0, in_proj_weight.name.rfind('.')), heads_, x);
  kept_ = !ForwardOnly::active();
  Workspace& w = kept_ || !shared ? own_ : *shared;
  if (kept_) {
    input_ = x;
  } else {  // nothing of a kept forward is needed any more
    input_ = SequenceBatch{};
    if (&w != &own_) own_ = Workspace{};
  }
  Matrix& qkv = w.qkv;
  packed_in_.update(in_proj_weight.value);  // [3E, T*B]: queries, keys, values
  qkv.resize(3 * E, x.values.cols());
  kernels::gemm(packed_in_, in_proj_bias.value.data(), x.values.data(), E, static_cast<int>(x.values.cols()), qkv.data());
  w.context.setZero(E, static_cast<Eigen::Index>(T) * B);
  // Kept between calls: same-sized products reuse their memory.
  if (kept_) attention_.resize(static_cast<size_t>(B * heads_));
  else attention_.clear();
  received_.setZero(T, B * heads_);
  for (int b = 0; b < B; ++b) {
    const int L = std::max(0, std::min(x.lengths[b], T));
    if (L == 0) continue;
    // Kept: the whole matrix at once. ForwardOnly: a block of queries at a time, adding up what
    // each key receives.
    const int block = kept_ ? L : std::min(L, kQueryBlock);
    // Sample b's step t is column t·B + b of qkv ([3E] per column) and of the context ([E]).
    const std::ptrdiff_t qkv_step = static_cast<std::ptrdiff_t>(B) * 3 * E, context_step = static_cast<std::ptrdiff_t>(B) * E;
    const Scalar* sample_qkv = qkv.data() + static_cast<std::ptrdiff_t>(b) * 3 * E;
    for (int h = 0; h < heads_; ++h) {
      // Kᵀ [L, d] and V [d, L] of this head, packed for kernels::gemm straight from qkv.
      w.keys.pack_strided(sample_qkv + E + h * d, L, d, qkv_step, 1);
      w.values.pack_strided(sample_qkv + 2 * E + h * d, d, L, 1, qkv_step);
      Scalar* received = received_.col(b * heads_ + h).data();
      for (int first = 0; first < L; first += block) {
        const int n = std::min(block, L - first);
        Matrix& a = kept_ ? attention_[static_cast<size_t>(b * heads_ + h)] : w.scores;
        // Column j holds query j's scores over the keys, so the softmax runs down contiguous
        // columns (vectorised exp): Aᵀ = softmax_columns(KᵀQ / √d)  [L, n] over real steps only.
        a.resize(L, n);
        kernels::gemm(w.keys, nullptr, sample_qkv + first * qkv_step + h * d, qkv_step, n, a.data());
        // The exponentials, and each query's 1 / Σ: the softmax's division is made in the products
        // that need it, the context (d values per query) and what each key receives, a pass over
        // the scores fewer. A kept forward then divides its matrix too, for backward and the
        // explanations; both kinds of forward compute their outputs by the same code.
        w.inverse_sums.resize(n);
        Scalar* inverse = w.inverse_sums.data();
        for (Eigen::Index j = 0; j < n; ++j) inverse[j] = Scalar(1) / kernels::exp_shifted(a.col(j).data(), L, scale);
        // O = V Aᵀ  [d, n], into the head's rows of the queries' context columns.
        Scalar* context = w.context.data() + static_cast<std::ptrdiff_t>(b) * E + first * context_step + h * d;
        kernels::gemm(w.values, nullptr, a.data(), L, n, context, context_step);
        for (int j = 0; j < n; ++j) Eigen::Map<Vector>(context + j * context_step, d) *= inverse[j];
        add_received(a, inverse, received);
        if (kept_)
          for (Eigen::Index j = 0; j < n; ++j) a.col(j) *= inverse[j];
      }
      for (int key = 0; key < L; ++key) received[key] /= static_cast<Scalar>(L);  // the mean over the queries
    }
  }
  if (kept_) out = out_proj.forward(w.context);  // keeps its input for backward
  else out_proj.apply(w.context, out);
  zero_padding_columns(out, T, B, x.lengths);
}

const Matrix& MultiHeadSelfAttention::attention(int b, int h) const {
  check(kept_, "self-attention: the last forward pass kept no attention matrices (it ran under ForwardOnly)");
  return attention_[static_cast<size_t>(b * heads_ + h)];
}

void MultiHeadSelfAttention::backward(const Matrix& grad_out, Matrix& grad_in) {
  check(kept_, "self-attention: backward after a forward pass that ran under ForwardOnly");
  const int T = input_.steps, B = input_.batch, E = channels_, d = E / heads_;
  const Scalar scale = static_cast<Scalar>(1.0 / std::sqrt(static_cast<double>(d)));
  Matrix grad = grad_out;
  zero_padding_columns(grad, T, B, input_.lengths);  // padding outputs are constants
  Matrix grad_context = out_proj.backward(grad);
  Matrix grad_qkv = Matrix::Zero(3 * E, static_cast<Eigen::Index>(T) * B);
  for (int b = 0; b < B; ++b) {
    const int L = std::max(0, std::min(input_.lengths[b], T));
    if (L == 0) continue;
    auto qkv = sample_columns(own_.qkv, b, B, L);
    auto dqkv = sample_columns(grad_qkv, b, B, L);
    auto dcontext = sample_columns(grad_context, b, B, L);
    for (int h = 0; h < heads_; ++h) {
      const auto q = qkv.middleRows(h * d, d), k = qkv.middleRows(E + h * d, d), v = qkv.middleRows(2 * E + h * d, d);
      const Matrix& a = attention_[static_cast<size_t>(b * heads_ + h)];
      const auto dout = dcontext.middleRows(h * d, d);  // a is Aᵀ: [keys, queries]
      dqkv.middleRows(2 * E + h * d, d).noalias() = dout * a.transpose();  // O = V Aᵀ ⇒ dV = dO A
      Matrix da = v.transpose() * dout;                                     //          dAᵀ = Vᵀ dO
      // softmax per column (query): dSᵀ = Aᵀ ⊙ (dAᵀ − colsum(dAᵀ ⊙ Aᵀ))
      const RowVector column_dot = (da.array() * a.array()).colwise().sum();
      Matrix ds = a.array() * (da.rowwise() - column_dot).array();
      ds *= scale;  // Sᵀ = KᵀQ / √d
      dqkv.middleRows(h * d, d).noalias() = k * ds;                // dQ = K dSᵀ
      dqkv.middleRows(E + h * d, d).noalias() = q * ds.transpose();  // dK = Q dS
    }
  }
  if (!InputGradientsOnly::active()) {
    in_proj_weight.grad.noalias() += grad_qkv * input_.values.transpose();
    in_proj_bias.grad.col(0) += grad_qkv.rowwise().sum();
  }
  grad_in.noalias() = in_proj_weight.value.transpose() * grad_qkv;
}

}  // namespace attnlens
