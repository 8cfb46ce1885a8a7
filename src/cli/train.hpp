// The CLI's classifier training commands: train (IMDB or labelled texts, optional word2vec
// pretraining of the embedding, per-epoch history, the best model kept atomically; or, with
// --write-dataset, the prepared data for tools/pytorch/train.py) and cue-task (the Train view's
// synthetic task as labelled texts).
#pragma once
#include <CLI/CLI.hpp>
#include <string>

#include "cli/common.hpp"
#include "data/imdb.hpp"
#include "models/classifier.hpp"
#include "train/synthetic.hpp"
#include "train/trainer.hpp"
#include "train/word2vec.hpp"

namespace attnlens::cli {

struct TrainArgs {
  std::string config_path, data_dir = default_data_directory(), out = "models/bilstm-attention.safetensors", history;
  ClassifierConfig model;
  TrainOptions training;
  int vocab_size = 20000, min_count = 1;
  int ngram_features = 200000, ngram_min_count = 2;  // an n-gram path's features (--ngram-path)
  double validation_fraction = 0.2;
  size_t limit = 0;
  bool eval_test = false;
  std::string train_file, test_file;  // labelled texts instead of IMDB
  Word2VecOptions pretraining{64, 5, 5, 0};  // epochs 0: no pretraining
  bool pretrain_unlabelled = true;
  std::string checkpoint, resume;  // checkpoint file to keep; one to continue from
  size_t checkpoint_every = 0;     // batches between checkpoints (0: after every epoch only)
  std::string write_dataset;       // write the prepared data for tools/pytorch/train.py instead of training
  std::vector<std::string> teachers;  // distillation: models whose mean logit labels IMDB's unlabelled reviews
};

CLI::App* add_train_command(CLI::App& app, TrainArgs& args);
int run_train(TrainArgs& args, const CLI::App& cmd, const std::string& command_line);
// Reads args.config_path (if set) into args; flags given on `cmd`'s command line win.
void apply_config_file(TrainArgs& args, const CLI::App& cmd);

CLI::App* add_cue_task_command(CLI::App& app, CueTaskOptions& options);
int run_cue_task(const CueTaskOptions& options);

}  // namespace attnlens::cli
