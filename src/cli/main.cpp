// attnlens command-line tool: the wiring. Each family of commands lives in its own file:
//   cli/train.cpp        train, cue-task
//   cli/classify.cpp     classify (also accepted as predict), explain, eval
//   cli/study.cpp        faithfulness-study
//   cli/translation.cpp  train-translator, translate (and eval, info, card for translators)
//   cli/model_files.cpp  info, card, export
//   cli/convert.cpp      convert
//   cli/join.cpp         join
//   cli/bench.cpp        bench
#include <CLI/CLI.hpp>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include "cli/bench.hpp"
#include "cli/classify.hpp"
#include "cli/study.hpp"
#include "cli/convert.hpp"
#include "cli/join.hpp"
#include "cli/model_files.hpp"
#include "cli/train.hpp"
#include "cli/translation.hpp"

using namespace attnlens::cli;

int main(int argc, char** argv) {
  std::string command_line = "attnlens";
  for (int i = 1; i < argc; ++i) command_line += std::string(" ") + argv[i];

  CLI::App app{"attnlens: small sequence models (BiLSTM + attention) that train and explain, natively and in the browser"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "attnlens 0.2.0");

  // Each command: its options, and what runs when it is the one given.
  std::vector<std::pair<CLI::App*, std::function<int()>>> commands;
  TrainArgs train;
  CLI::App* train_cmd = add_train_command(app, train);
  commands.emplace_back(train_cmd, [&] { return run_train(train, *train_cmd, command_line); });
  EvalArgs eval;
  commands.emplace_back(add_eval_command(app, eval), [&] { return run_eval(eval); });
  ClassifyArgs classify;
  CLI::App* classify_cmd = add_classify_command(app, classify);
  commands.emplace_back(classify_cmd, [&] { return run_classify(classify, *classify_cmd); });
  ExplainArgs explain;
  CLI::App* explain_cmd = add_explain_command(app, explain);
  commands.emplace_back(explain_cmd, [&] { return run_explain(explain, *explain_cmd); });
  FaithfulnessStudyArgs study;
  CLI::App* study_cmd = add_faithfulness_study_command(app, study);
  commands.emplace_back(study_cmd, [&] { return run_faithfulness_study(study); });
  std::string info_model;
  commands.emplace_back(add_info_command(app, info_model), [&] { return run_info(info_model); });
  TrainTranslatorArgs train_translator;
  CLI::App* train_translator_cmd = add_train_translator_command(app, train_translator);
  commands.emplace_back(train_translator_cmd, [&] { return run_train_translator(train_translator, *train_translator_cmd, command_line); });
  TranslateArgs translate;
  CLI::App* translate_cmd = add_translate_command(app, translate);
  commands.emplace_back(translate_cmd, [&] { return run_translate(translate, *translate_cmd); });
  std::vector<std::string> card_models;
  commands.emplace_back(add_card_command(app, card_models), [&] { return run_card(card_models); });
  ExportArgs export_args;
  commands.emplace_back(add_export_command(app, export_args), [&] { return run_export(export_args); });
  ConvertArgs convert;
  commands.emplace_back(add_convert_command(app, convert), [&] { return run_convert(convert, command_line); });
  JoinArgs join;
  commands.emplace_back(add_join_command(app, join), [&] { return run_join(join, command_line); });
  BenchArgs bench;
  commands.emplace_back(add_bench_command(app, bench), [&] { return run_bench(bench); });
  attnlens::CueTaskOptions cue;
  commands.emplace_back(add_cue_task_command(app, cue), [&] { return run_cue_task(cue); });

  if (argc > 1 && argv[1][0] != '-') {  // a clearer message than CLI11's for a mistyped command
    std::string names;
    bool known = false;
    for (const auto& [cmd, run] : commands) {
      names += (names.empty() ? "" : ", ") + cmd->get_name();
      known = known || cmd->check_name(argv[1]);
    }
    if (!known) {
      std::cerr << "attnlens: unknown command '" << argv[1] << "' (commands: " << names << "; see --help)\n";
      return 2;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    for (const auto& [cmd, run] : commands)
      if (*cmd) return run();
  } catch (const std::exception& e) {
    std::cerr << "attnlens: error: " << e.what() << std::endl;
    return 1;
  }
  return 0;
}
