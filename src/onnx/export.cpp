#include "onnx/export.hpp"

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <map>

#include "core/error.hpp"

namespace attnlens {

namespace {

class GraphBuilder {
 public:
  explicit GraphBuilder(onnx::GraphProto* graph) : graph_(graph) {}

  // A float initializer from rows of a parameter (row blocks in the order given).
  void initializer(const std::string& name, const std::vector<int64_t>& dims, const std::vector<float>& values) {
    onnx::TensorProto* t = graph_->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    for (int64_t d : dims) t->add_dims(d);
    t->set_raw_data(std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float)));
  }

  void int64_initializer(const std::string& name, const std::vector<int64_t>& dims, const std::vector<int64_t>& values) {
    onnx::TensorProto* t = graph_->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::INT64);
    for (int64_t d : dims) t->add_dims(d);
    for (int64_t v : values) t->add_int64_data(v);
  }

  onnx::NodeProto* node(const std::string& op, const std::vector<std::string>& inputs, const std::vector<std::string>& outputs) {
    onnx::NodeProto* n = graph_->add_node();
    n->set_op_type(op);
    n->set_name(op + "_" + std::to_string(graph_->node_size()));
    for (const auto& i : inputs) n->add_input(i);
    for (const auto& o : outputs) n->add_output(o);
    return n;
  }

  // One output, named after the op: returns it.
  std::string op(const std::string& op, const std::vector<std::string>& inputs) {
    const std::string out = op + "_" + std::to_string(graph_->node_size() + 1);
    node(op, inputs, {out});
    return out;
  }

  static void attribute(onnx::NodeProto* n, const std::string& name, int64_t value) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(value);
  }
  static void attribute(onnx::NodeProto* n, const std::string& name, const std::vector<int64_t>& values) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INTS);
    for (int64_t v : values) a->add_ints(v);
  }
  static void attribute(onnx::NodeProto* n, const std::string& name, const std::string& value) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::STRING);
    a->set_s(value);
  }

  onnx::NodeProto* last() { return graph_->mutable_node(graph_->node_size() - 1); }

  std::string transpose(const std::string& x, const std::vector<int64_t>& perm) {
    const std::string out = "transposed_" + std::to_string(graph_->node_size() + 1);
    attribute(node("Transpose", {x}, {out}), "perm", perm);
    return out;
  }

  std::string constant_axes(const std::vector<int64_t>& axes) {
    const std::string name = "axes_" + std::to_string(counter_++);
    int64_initializer(name, {static_cast<int64_t>(axes.size())}, axes);
    return name;
  }

 private:
  onnx::GraphProto* graph_;
  int counter_ = 0;
};

std::map<std::string, const Parameter*> by_name(Classifier& model) {
  std::map<std::string, const Parameter*> params;
  for (const Parameter* p : model.parameters()) params[p->name] = p;
  return params;
}

std::vector<float> values_of(const ParamMatrix& m) {
  std::vector<float> out(static_cast<size_t>(m.size()));
  for (Eigen::Index i = 0; i < m.size(); ++i) out[static_cast<size_t>(i)] = static_cast<float>(m.data()[i]);
  return out;
}

// Gate blocks of H rows, reordered: ours (PyTorch's) → ONNX's.
void append_gates(std::vector<float>& out, const ParamMatrix& m, int64_t H, const std::vector<int>& order) {
  for (int gate : order) {
    const ParamMatrix block = m.middleRows(gate * H, H);
    const std::vector<float> v = values_of(block);
    out.insert(out.end(), v.begin(), v.end());
  }
}

// [in, out] = Wᵀ of a [out, in] weight, for MatMul(x [.., in], Wᵀ).
std::vector<float> transposed(const ParamMatrix& w) {
  const ParamMatrix t = w.transpose();
  return values_of(t);
}

}  // namespace

namespace {

using ParamLookup = std::function<const Parameter&(const std::string&)>;

std::string linear(GraphBuilder& g, const std::string& x, const ParamLookup& param, const std::string& name) {
  const Parameter& w = param(name + ".weight");
  g.initializer(name + ".weight_t", {w.shape[1], w.shape[0]}, transposed(w.value));
  g.initializer(name + ".bias", param(name + ".bias").shape, values_of(param(name + ".bias").value));
  return g.op("Add", {g.op("MatMul", {x, name + ".weight_t"}), name + ".bias"});
}

std::string layer_norm(GraphBuilder& g, const std::string& x, const ParamLookup& param, const std::string& name) {
  g.initializer(name + ".weight", param(name + ".weight").shape, values_of(param(name + ".weight").value));
  g.initializer(name + ".bias", param(name + ".bias").shape, values_of(param(name + ".bias").value));
  const std::string out = name + ".out";
  onnx::NodeProto* n = g.node("LayerNormalization", {x, name + ".weight", name + ".bias"}, {out});
  GraphBuilder::attribute(n, "axis", int64_t{-1});
  auto* eps = n->add_attribute();
  eps->set_name("epsilon");
  eps->set_type(onnx::AttributeProto::FLOAT);
  eps->set_f(1e-5f);
  return out;
}

// The pre-norm Transformer encoder of layers/transformer.cpp: x₀ = √E·x + PE; per layer
// h = x + MHA(LN₁(x)), y = h + FFN(LN₂(h)); a final LayerNorm. [B, T, E] → [B, T, E].
std::string transformer(GraphBuilder& g, const std::string& embedded, const ParamLookup& param, int64_t E,
                        const LayerSpec& spec) {
  // Sinusoidal positions, computed for the input's length: angle[t, i] = t · 10000^(−(i − i mod 2)/E);
  // even channels take its sine, odd ones its cosine.
  std::vector<float> inverse_frequency(static_cast<size_t>(E)), even(static_cast<size_t>(E)), odd(static_cast<size_t>(E));
  for (int64_t i = 0; i < E; ++i) {
    inverse_frequency[static_cast<size_t>(i)] = static_cast<float>(std::pow(10000.0, -static_cast<double>(i - i % 2) / E));
    even[static_cast<size_t>(i)] = i % 2 == 0 ? 1.f : 0.f;
    odd[static_cast<size_t>(i)] = i % 2 == 0 ? 0.f : 1.f;
  }
  g.initializer("positions.inverse_frequency", {1, E}, inverse_frequency);
  g.initializer("positions.even", {E}, even);
  g.initializer("positions.odd", {E}, odd);
  g.initializer("positions.scale", {}, {static_cast<float>(std::sqrt(static_cast<double>(E)))});
  g.int64_initializer("positions.zero", {}, {0});
  g.int64_initializer("positions.one", {}, {1});
  const std::string steps = g.op("Gather", {g.op("Shape", {"token_ids"}), "positions.one"});  // T, a scalar
  const std::string t = g.op("Cast", {g.op("Range", {"positions.zero", steps, "positions.one"})});
  GraphBuilder::attribute(g.last(), "to", int64_t{onnx::TensorProto::FLOAT});
  const std::string angles = g.op("MatMul", {g.op("Unsqueeze", {t, g.constant_axes({1})}), "positions.inverse_frequency"});
  const std::string pe = g.op("Add", {g.op("Mul", {g.op("Sin", {angles}), "positions.even"}),
                                      g.op("Mul", {g.op("Cos", {angles}), "positions.odd"})});  // [T, E]
  std::string x = g.op("Add", {g.op("Mul", {embedded, "positions.scale"}), pe});

  const int64_t heads = spec.heads, d = E / heads;
  g.int64_initializer("mha.split", {3}, {E, E, E});
  g.int64_initializer("mha.heads_shape", {4}, {0, 0, heads, d});
  g.int64_initializer("mha.merge_shape", {3}, {0, 0, E});
  g.initializer("mha.scale", {}, {static_cast<float>(1.0 / std::sqrt(static_cast<double>(d)))});
  for (int l = 0; l < spec.layers; ++l) {
    const std::string prefix = "encoder.layers." + std::to_string(l);
    const std::string normed = layer_norm(g, x, param, prefix + ".norm1");
    const std::string attn = prefix + ".self_attn";
    const Parameter& in_w = param(attn + ".in_proj_weight");
    g.initializer(attn + ".in_proj_weight_t", {E, 3 * E}, transposed(in_w.value));
    g.initializer(attn + ".in_proj_bias", {3 * E}, values_of(param(attn + ".in_proj_bias").value));
    const std::string qkv = g.op("Add", {g.op("MatMul", {normed, attn + ".in_proj_weight_t"}), attn + ".in_proj_bias"});
    const std::string q = attn + ".q", k = attn + ".k", v = attn + ".v";
    GraphBuilder::attribute(g.node("Split", {qkv, "mha.split"}, {q, k, v}), "axis", int64_t{2});
    const auto split_heads = [&](const std::string& m, const std::vector<int64_t>& perm) {
      return g.transpose(g.op("Reshape", {m, "mha.heads_shape"}), perm);
    };
    const std::string scores = g.op("Mul", {g.op("MatMul", {split_heads(q, {0, 2, 1, 3}), split_heads(k, {0, 2, 3, 1})}), "mha.scale"});
    const std::string weights = g.op("Softmax", {scores});  // [B, h, T, T], over keys
    GraphBuilder::attribute(g.last(), "axis", int64_t{-1});
    const std::string context = g.op("MatMul", {weights, split_heads(v, {0, 2, 1, 3})});  // [B, h, T, d]
    const std::string merged = g.op("Reshape", {g.transpose(context, {0, 2, 1, 3}), "mha.merge_shape"});
    const std::string h = g.op("Add", {x, linear(g, merged, param, attn + ".out_proj")});
    const std::string hidden = g.op("Relu", {linear(g, layer_norm(g, h, param, prefix + ".norm2"), param, prefix + ".linear1")});
    x = g.op("Add", {h, linear(g, hidden, param, prefix + ".linear2")});
  }
  return layer_norm(g, x, param, "encoder.norm");
}

}  // namespace

std::string export_onnx(ClassifierBundle& bundle) {
  Classifier& model = *bundle.model;
  const ClassifierConfig& config = model.config();
  check(config.ngram_order == 0,
        "onnx export: an n-gram model's features (its words and n-grams present) are not an ONNX graph of token ids; "
        "its weights are one per vocabulary entry in embedding.weight");
  const auto params = by_name(model);
  const ParamLookup param = [&](const std::string& name) -> const Parameter& {
    const auto it = params.find(name);
    check(it != params.end(), "onnx export: no parameter '" + name + "'");
    return *it->second;
  };

  onnx::ModelProto proto;
  proto.set_ir_version(8);
  proto.set_producer_name("attnlens");
  proto.set_producer_version("0.1.0");
  proto.set_doc_string("attnlens classifier '" + config.architecture + "': " + config.describe());
  auto* opset = proto.add_opset_import();
  opset->set_domain("");
  opset->set_version(kOnnxOpset);
  const auto meta = [&](const std::string& key, const std::string& value) {
    auto* m = proto.add_metadata_props();
    m->set_key(key);
    m->set_value(value);
  };
  meta("config", config.to_json().dump());
  meta("tokenizer", tokenizer_to_json(bundle.tokenizer).dump());
  meta("vocabulary", nlohmann::json(bundle.vocabulary.words()).dump());
  meta("provenance", bundle.provenance.dump());
  const bool path = config.ngram_path > 0;
  if (path)
    meta("ngram_rows",
         "The n-gram path's input: for each review, the distinct vocabulary ids of its features, padded with 0 "
         "(<pad>, whose weight here is 0): every token's id but <pad> (<unk> included), and the id of every entry "
         "of 2.." + std::to_string(config.ngram_path) + " consecutive tokens' words joined by one space that the "
         "vocabulary holds. logit = the network's (which reads ids from embedding_words on as <unk>) + gain * the sum "
         "of the features' weights.");

  onnx::GraphProto* graph = proto.mutable_graph();
  graph->set_name(config.architecture);
  GraphBuilder g(graph);
  const auto add_io = [&](google::protobuf::RepeatedPtrField<onnx::ValueInfoProto>* list, const std::string& name,
                          int elem_type, const std::vector<std::string>& dims) {
    onnx::ValueInfoProto* v = list->Add();
    v->set_name(name);
    auto* tensor = v->mutable_type()->mutable_tensor_type();
    tensor->set_elem_type(elem_type);
    for (const auto& d : dims) tensor->mutable_shape()->add_dim()->set_dim_param(d);
  };
  add_io(graph->mutable_input(), "token_ids", onnx::TensorProto::INT64, {"batch", "steps"});
  if (path) add_io(graph->mutable_input(), "ngram_rows", onnx::TensorProto::INT64, {"batch", "features"});

  const Parameter& embedding = param("embedding.weight");
  g.initializer("embedding.weight", embedding.shape, values_of(embedding.value));
  std::string network_ids = "token_ids";
  if (path) {  // the network reads the ids past its own words as <unk>
    g.int64_initializer("network.words", {}, {config.embedding_words});
    g.int64_initializer("network.unk", {}, {Vocabulary::kUnk});
    network_ids = g.op("Where", {g.op("Less", {"token_ids", "network.words"}), "token_ids", "network.unk"});
  }
  std::string x = g.op("Gather", {"embedding.weight", network_ids});  // [B, T, E]
  int64_t channels = config.embedding_dim;
  int rnn = 0, conv = 0;
  for (const LayerSpec& layer : config.encoder_layers()) {
    if (layer.type == "lstm" || layer.type == "gru") {
      const bool lstm = layer.type == "lstm";
      const int64_t H = layer.size, gates = lstm ? 4 : 3;
      // ONNX orders LSTM gates i, o, f, c and GRU gates z, r, h; ours (PyTorch's) are i, f, g, o and r, z, n.
      const std::vector<int> order = lstm ? std::vector<int>{0, 3, 1, 2} : std::vector<int>{1, 0, 2};
      const std::string suffix = "_l" + std::to_string(rnn++);
      std::vector<std::string> directions = {suffix};
      if (layer.bidirectional) directions.push_back(suffix + "_reverse");
      std::vector<float> W, R, Bias;
      for (const auto& d : directions) {
        append_gates(W, param("rnn.weight_ih" + d).value, H, order);
        append_gates(R, param("rnn.weight_hh" + d).value, H, order);
      }
      for (const auto& d : directions) {
        append_gates(Bias, param("rnn.bias_ih" + d).value, H, order);
        append_gates(Bias, param("rnn.bias_hh" + d).value, H, order);
      }
      // B is [directions, 2·gates·H]: per direction, Wb then Rb.
      std::vector<float> bias_per_direction;
      const size_t block = static_cast<size_t>(gates * H);
      for (size_t d = 0; d < directions.size(); ++d) {
        bias_per_direction.insert(bias_per_direction.end(), Bias.begin() + static_cast<std::ptrdiff_t>(2 * d * block),
                                  Bias.begin() + static_cast<std::ptrdiff_t>((2 * d + 1) * block));
        bias_per_direction.insert(bias_per_direction.end(), Bias.begin() + static_cast<std::ptrdiff_t>((2 * d + 1) * block),
                                  Bias.begin() + static_cast<std::ptrdiff_t>((2 * d + 2) * block));
      }
      const int64_t D = static_cast<int64_t>(directions.size());
      const std::string prefix = "rnn" + suffix;
      g.initializer(prefix + ".W", {D, gates * H, channels}, W);
      g.initializer(prefix + ".R", {D, gates * H, H}, R);
      g.initializer(prefix + ".B", {D, 2 * gates * H}, bias_per_direction);
      const std::string sequence = g.transpose(x, {1, 0, 2});  // [T, B, C]
      const std::string y = prefix + ".Y";
      onnx::NodeProto* n = g.node(lstm ? "LSTM" : "GRU", {sequence, prefix + ".W", prefix + ".R", prefix + ".B"}, {y});
      GraphBuilder::attribute(n, "hidden_size", H);
      GraphBuilder::attribute(n, "direction", std::string(layer.bidirectional ? "bidirectional" : "forward"));
      if (!lstm) GraphBuilder::attribute(n, "linear_before_reset", int64_t{1});
      const std::string batch_major = g.transpose(y, {2, 0, 1, 3});  // [T, D, B, H] → [B, T, D, H]
      const std::string shape = prefix + ".shape";
      g.int64_initializer(shape, {3}, {0, 0, D * H});
      x = g.op("Reshape", {batch_major, shape});  // [B, T, D·H]: forward features, then reverse
      channels = D * H;
    } else if (layer.type == "conv1d") {
      const std::string name = "conv" + std::to_string(conv++);
      const Parameter& w = param(name + ".weight");
      g.initializer(name + ".weight", w.shape, values_of(w.value));
      g.initializer(name + ".bias", param(name + ".bias").shape, values_of(param(name + ".bias").value));
      const int64_t k = layer.kernel_size, left = layer.padding == "valid" ? 0 : (k - 1) / 2;
      const int64_t right = layer.padding == "valid" ? 0 : k - 1 - left;
      const std::string channel_first = g.transpose(x, {0, 2, 1});
      const std::string out = name + ".out";
      onnx::NodeProto* n = g.node("Conv", {channel_first, name + ".weight", name + ".bias"}, {out});
      GraphBuilder::attribute(n, "kernel_shape", std::vector<int64_t>{k});
      GraphBuilder::attribute(n, "pads", std::vector<int64_t>{left, right});
      x = g.transpose(out, {0, 2, 1});
      channels = layer.size;
    } else if (layer.type == "relu") {
      x = g.op("Relu", {x});
    } else if (layer.type == "maxpool1d") {
      const std::string channel_first = g.transpose(x, {0, 2, 1});
      const std::string out = "maxpool_" + std::to_string(graph->node_size() + 1);
      onnx::NodeProto* n = g.node("MaxPool", {channel_first}, {out});
      GraphBuilder::attribute(n, "kernel_shape", std::vector<int64_t>{layer.pool_size});
      GraphBuilder::attribute(n, "strides", std::vector<int64_t>{layer.pool_size});
      GraphBuilder::attribute(n, "ceil_mode", int64_t{1});  // a last, shorter window, as ours
      x = g.transpose(out, {0, 2, 1});
    } else if (layer.type == "transformer") {
      x = transformer(g, x, param, channels, layer);
    } else {
      throw Error("onnx export: the '" + layer.type + "' encoder layer is not supported yet (" + config.architecture + ")");
    }
  }

  // Pooling → [B, C].
  std::string pooled;
  if (config.pooling == "attention") {
    const Parameter& w = param("attention.weight");  // [1, C]
    g.initializer("attention.weight_t", {channels, 1}, values_of(w.value));
    g.initializer("attention.bias", {1}, values_of(param("attention.bias").value));
    const std::string scores = g.op("Tanh", {g.op("Add", {g.op("MatMul", {x, "attention.weight_t"}), "attention.bias"})});
    const std::string squeezed = g.op("Squeeze", {scores, g.constant_axes({2})});  // [B, T]
    GraphBuilder::attribute(g.node("Softmax", {squeezed}, {"attention"}), "axis", int64_t{1});
    add_io(graph->mutable_output(), "attention", onnx::TensorProto::FLOAT, {"batch", "steps"});
    const std::string weights = g.op("Unsqueeze", {"attention", g.constant_axes({1})});  // [B, 1, T]
    pooled = g.op("Squeeze", {g.op("MatMul", {weights, x}), g.constant_axes({1})});
  } else if (config.pooling == "max" || config.pooling == "mean") {
    pooled = "pooled";
    onnx::NodeProto* n = g.node(config.pooling == "max" ? "ReduceMax" : "ReduceMean", {x}, {pooled});
    GraphBuilder::attribute(n, "axes", std::vector<int64_t>{1});
    GraphBuilder::attribute(n, "keepdims", int64_t{0});
  } else if (config.pooling == "sum") {  // ReduceSum takes its axes as an input from opset 13
    pooled = "pooled";
    GraphBuilder::attribute(g.node("ReduceSum", {x, g.constant_axes({1})}, {pooled}), "keepdims", int64_t{0});
  } else {  // last: the last step (batches have no padding)
    g.int64_initializer("last_step", {}, {-1});
    pooled = "pooled";
    GraphBuilder::attribute(g.node("Gather", {x, "last_step"}, {pooled}), "axis", int64_t{1});
  }

  std::string h = pooled;
  for (size_t i = 0; i < config.dense.size(); ++i) {
    const std::string name = "dense" + std::to_string(i);
    g.initializer(name + ".weight", param(name + ".weight").shape, values_of(param(name + ".weight").value));
    g.initializer(name + ".bias", param(name + ".bias").shape, values_of(param(name + ".bias").value));
    const std::string out = g.op("Gemm", {h, name + ".weight", name + ".bias"});
    GraphBuilder::attribute(graph->mutable_node(graph->node_size() - 1), "transB", int64_t{1});
    h = g.op("Relu", {out});
  }
  g.initializer("fc.weight", param("fc.weight").shape, values_of(param("fc.weight").value));
  g.initializer("fc.bias", param("fc.bias").shape, values_of(param("fc.bias").value));
  std::string logits = g.op("Gemm", {h, "fc.weight", "fc.bias"});
  GraphBuilder::attribute(graph->mutable_node(graph->node_size() - 1), "transB", int64_t{1});
  if (path) {  // + gain · Σ the weights of the features present (row 0, <pad>, is never one: the padding)
    std::vector<float> table = values_of(param("ngrams.weight").value);
    table[0] = 0;
    g.initializer("ngrams.weight", {static_cast<int64_t>(table.size())}, table);
    g.initializer("ngrams.gain", {1}, values_of(param("ngrams.gain").value));
    const std::string weights = g.op("Gather", {"ngrams.weight", "ngram_rows"});  // [B, F]
    const std::string sum = g.op("ReduceSum", {weights, g.constant_axes({1})});  // [B, 1] (keepdims)
    logits = g.op("Add", {logits, g.op("Mul", {sum, "ngrams.gain"})});
  }
  g.node("Squeeze", {logits, g.constant_axes({1})}, {"logit"});
  g.node("Sigmoid", {"logit"}, {"probability"});
  add_io(graph->mutable_output(), "logit", onnx::TensorProto::FLOAT, {"batch"});
  add_io(graph->mutable_output(), "probability", onnx::TensorProto::FLOAT, {"batch"});

  try {
    onnx::checker::check_model(proto);
  } catch (const std::exception& e) {
    throw Error(std::string("onnx export: the ONNX checker rejected the graph: ") + e.what());
  }
  std::string bytes;
  check(proto.SerializeToString(&bytes), "onnx export: serialisation failed");
  return bytes;
}

}  // namespace attnlens
