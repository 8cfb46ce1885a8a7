// The CLI's commands about model files themselves: info (config, tokenizer, vocabulary size and
// provenance as JSON), card (Markdown model cards from what the files record) and export (a
// classifier as an ONNX graph).
#pragma once
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace attnlens::cli {

struct ExportArgs {
  std::string model, out, format = "onnx";
};

CLI::App* add_info_command(CLI::App& app, std::string& model);
int run_info(const std::string& model);

CLI::App* add_card_command(CLI::App& app, std::vector<std::string>& models);
int run_card(const std::vector<std::string>& models);

CLI::App* add_export_command(CLI::App& app, ExportArgs& args);
int run_export(const ExportArgs& args);

}  // namespace attnlens::cli
