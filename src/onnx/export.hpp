// ONNX export of a classifier (`attnlens export --format onnx`), written with the ONNX
// project's own protobuf classes (Debian's libonnx-dev) and checked with its checker.
//
// The graph takes token ids and gives what `classify` gives, for batches without padding:
//   input   token_ids     int64 [batch, steps]   (ids from the model's vocabulary; 0 is padding, 1 unknown)
//   output  logit         float [batch]
//           probability   float [batch]          (sigmoid of the logit: the positive class)
//           attention     float [batch, steps]   (attention-pooling models only)
// Tokenising stays outside the graph: the vocabulary and tokenizer settings are in the
// model's metadata_props ("vocabulary", "tokenizer", "config") for the caller to use.
// Supported: every encoder the classifier config allows — LSTM / GRU (uni- or bidirectional),
// Conv1D, ReLU, MaxPool1D, the Transformer encoder — with attention, max, mean or last pooling.
#pragma once
#include <string>
#include <vector>

#include "io/model_file.hpp"

namespace attnlens {

constexpr int kOnnxOpset = 17;

// The serialized ModelProto; throws an Error for an architecture it cannot export.
std::string export_onnx(ClassifierBundle& bundle);

}  // namespace attnlens
