// Runs one layer on given weights and input, for parity tests against other frameworks
// (web/tests/parity.test.mjs). Reads one JSON object on stdin:
//   {"layer": "lstm" | "gru" | "conv1d" | "dense" | "self_attention" | "layer_norm", "input_size": C, "size": H,
//    "reverse": bool, "kernel_size": k, "padding": "same" | "valid", "heads": n,
//    "parameters": [[...], ...],   // flat, C order, in the layer's parameters() order
//    "input": [[[...C], ...T], ...B], "lengths": [...B]}
// and writes {"output": [[[...], ...], ...]} ([B][T'][H], or [B][H] for dense).
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "layers/conv1d.hpp"
#include "layers/dense.hpp"
#include "layers/gru.hpp"
#include "layers/lstm.hpp"
#include "layers/layer_norm.hpp"
#include "layers/self_attention.hpp"
#include "layers/transformer.hpp"

using namespace attnlens;
using nlohmann::json;

int main() {
  try {
    const json spec = json::parse(std::cin);
    const std::string type = spec.at("layer");
    const int C = spec.at("input_size"), H = spec.at("size");
    const json& input = spec.at("input");
    const int B = static_cast<int>(input.size()), T = static_cast<int>(input.at(0).size());
    std::unique_ptr<Module> module;
    Dense dense;
    if (type == "lstm") module = std::make_unique<LSTM>("rnn", "_l0", C, H, spec.value("reverse", false));
    else if (type == "gru") module = std::make_unique<GRU>("rnn", "_l0", C, H, spec.value("reverse", false));
    else if (type == "conv1d")
      module = std::make_unique<Conv1D>("conv0", C, H, spec.at("kernel_size").get<int>(),
                                        spec.value("padding", "same") == "valid" ? Conv1D::Padding::Valid : Conv1D::Padding::Same);
    else if (type == "dense") module = std::make_unique<Dense>("fc", C, H);
    else if (type == "self_attention") module = std::make_unique<MultiHeadSelfAttention>("self_attn", C, spec.at("heads").get<int>());
    else if (type == "layer_norm") module = std::make_unique<LayerNorm>("norm", C);
    else throw Error("unknown layer " + type);
    const auto params = module->parameters();
    check(spec.at("parameters").size() == params.size(), "wrong number of parameter arrays");
    for (size_t k = 0; k < params.size(); ++k) {
      const json& values = spec["parameters"][k];
      check(values.size() == static_cast<size_t>(params[k]->size()), params[k]->name + ": wrong size");
      for (Eigen::Index i = 0; i < params[k]->size(); ++i) params[k]->value.data()[i] = values[static_cast<size_t>(i)].get<Scalar>();
    }
    json output = json::array();
    if (type == "dense") {
      Matrix x(C, B);
      for (int b = 0; b < B; ++b)
        for (int c = 0; c < C; ++c) x(c, b) = input[b][0][c].get<Scalar>();
      const Matrix& y = static_cast<Dense&>(*module).forward(x);
      for (int b = 0; b < B; ++b) {
        json row = json::array();
        for (int h = 0; h < H; ++h) row.push_back(y(h, b));
        output.push_back(row);
      }
    } else {
      SequenceBatch in;
      in.steps = T;
      in.batch = B;
      in.lengths = spec.value("lengths", std::vector<int>(B, T));
      in.values.resize(C, static_cast<Eigen::Index>(T) * B);
      for (int b = 0; b < B; ++b)
        for (int t = 0; t < T; ++t)
          for (int c = 0; c < C; ++c) in.values(c, static_cast<Eigen::Index>(t) * B + b) = input[b][t][c].get<Scalar>();
      SequenceBatch out;
      if (type == "self_attention") {
        out = in;
        static_cast<MultiHeadSelfAttention&>(*module).forward(in, out.values);
      } else if (type == "layer_norm") {
        out = in;
        static_cast<LayerNorm&>(*module).forward(in.values, out.values);
      } else {
        static_cast<SequenceLayer&>(*module).forward(in, out);
      }
      for (int b = 0; b < B; ++b) {
        json steps = json::array();
        for (int t = 0; t < out.steps; ++t) {
          json row = json::array();
          for (Eigen::Index h = 0; h < out.values.rows(); ++h) row.push_back(out.values(h, static_cast<Eigen::Index>(t) * B + b));
          steps.push_back(row);
        }
        output.push_back(steps);
      }
    }
    std::cout << json{{"output", output}}.dump() << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "layer_probe: " << e.what() << "\n";
    return 1;
  }
}
