// The table of emarctl's commands (client/commands/command.h), and what is generated from it.
#include <algorithm>
#include <cstring>
#include <iostream>
#include <string_view>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "client/commands/cli.h"
#include "client/commands/command.h"
#include "client/commands/commands.h"

namespace emar {

const std::vector<Command>& Commands() {
  // The connection flags, read by every command that talks to a coordinator.
#define EMAR_CONNECTION_FLAGS "server", "tls_ca", "tls_cert", "tls_key", "token_file"
#define EMAR_GATE_FLAGS "min_emar", "max_benchmark_regression", "min_target_gain"
  static const auto* commands = new std::vector<Command>{
      {"run",
       "run JOB.yaml",
       "evaluate a job file in this process (embedded coordinator) and print the report",
       {"format", "workers", "rows_per_shard", "data_dir", "request_id", "label", "no_cache",
        EMAR_GATE_FLAGS, "timeout", "progress", "progress_every", "flips", "input_root",
        "allow_private_urls", "url_ca_file"},
       RunCommand},
      {"submit",
       "submit JOB.yaml [--wait]",
       "send a job to a coordinator; prints the job id, or the report with --wait",
       {"format", "wait", "request_id", "label", "no_cache", EMAR_GATE_FLAGS, "timeout", "progress",
        "progress_every", "flips", EMAR_CONNECTION_FLAGS},
       SubmitCommand},
      {"status",
       "status JOB_ID",
       "one job's state and progress",
       {"format", EMAR_CONNECTION_FLAGS},
       StatusCommand},
      {"watch",
       "watch JOB_ID",
       "follow a job until it ends",
       {"format", "timeout", "progress", "progress_every", EMAR_CONNECTION_FLAGS},
       WatchCommand},
      {"list",
       "list",
       "recent jobs",
       {"format", "label", "limit", "page_token", EMAR_CONNECTION_FLAGS},
       ListCommand},
      {"cancel", "cancel JOB_ID", "cancel a job", {"format", EMAR_CONNECTION_FLAGS}, CancelCommand},
      {"report",
       "report JOB_ID",
       "the report of a finished job",
       {"format", "flips", EMAR_CONNECTION_FLAGS},
       ReportCommand},
      {"flips",
       "flips JOB_ID --dataset D [--candidate C] [--kind learned|forgot]",
       "the items a candidate learned / forgot on a dataset (text, json, html)",
       {"format", "dataset", "candidate", "kind", "metric", "flips", EMAR_CONNECTION_FLAGS},
       FlipsCommand},
      {"delete",
       "delete JOB_ID",
       "delete a finished job, its results and the inputs no other job reads",
       {"format", EMAR_CONNECTION_FLAGS},
       DeleteCommand},
      {"cache",
       "cache drop --job J | --digest D",
       "(admin) forget score cache entries: a job's, or an input's",
       {"job", "digest", "format", EMAR_CONNECTION_FLAGS},
       CacheCommand},
      {"series",
       "series --label K=V --by L",
       "a run's finished jobs (those with every --label) side by side,\n"
       "one point per job ordered by label L (e.g. --label run=exp-42 --by step);\n"
       "--dataset NAME follows one dataset of a suite instead of the aggregates",
       {"format", "label", "by", "dataset", EMAR_CONNECTION_FLAGS},
       SeriesCommand},
      {"score",
       "score --metric M --predictions P --references R",
       "score one pair of files locally",
       {"format", "metric", "predictions", "references", "id_field", "prediction_field",
        "reference_field"},
       ScoreCommand},
      {"emar",
       "emar --formula F --t0 X --t1 X --b0 X --b1 X",
       "evaluate an EMAR formula",
       {"format", "formula", "t0", "t1", "b0", "b1"},
       EmarCommand},
      {"plan",
       "plan --metric M --baseline P --margin D",
       "items needed to detect D (--items N: the MDE of N)",
       {"format", "metric", "baseline", "margin", "discordance", "sd", "items", "alpha", "power",
        "one_sided"},
       PlanCommand},
      {"hash",
       "hash FILE...",
       "the sha256 and size of each file: what a job naming an input by reference\n"
       "({uri: ..., sha256: ..., size: ...}, docs/inputs.md) states",
       {"format"},
       HashCommand},
      {"admin",
       "admin backup DIR",
       "an online backup of the coordinator's jobs and inputs into DIR (admin token;\n"
       "--timestamped: into DIR/emar-backup-TIME, --keep N: keep the newest N)",
       {"format", "timestamped", "keep", EMAR_CONNECTION_FLAGS},
       AdminCommand},
      {"job",
       "job from-lm-eval --base DIR --candidate NAME=DIR --target T --benchmarks T1,T2",
       "a suite job file from lm-evaluation-harness outputs (job --help)",
       {},
       JobCommand,
       /*own_flags=*/true},
      {"help",
       "help [COMMAND]",
       "this text, or one command's synopsis and the flags it reads",
       {},
       HelpCommand},
  };
#undef EMAR_CONNECTION_FLAGS
#undef EMAR_GATE_FLAGS
  return *commands;
}

const Command* FindCommand(const std::string& name) {
  for (const Command& c : Commands()) {
    if (name == c.name) return &c;
  }
  return nullptr;
}

namespace {

constexpr size_t kHelpColumn = 31;  // where the help text starts in the usage text
constexpr size_t kUsageWidth = 100;

constexpr char kCommonFlags[] = R"(
Common flags: --server HOST:PORT (default $EMAR_SERVER, else 127.0.0.1:50051), --format text|json
(reports and series also markdown|html; other output is text for those).
  --label K=V (repeatable)   run/submit: add labels to the job's; list/series: only jobs with them
  --no-cache                 run/submit: score every shard afresh, reusing no cached statistics
  --input-root DIR           run: file:// inputs may be read under DIR (repeatable; also
                             --allow-private-urls, --url-ca-file; docs/inputs.md)
  --timeout DURATION         run, submit --wait, watch: give up waiting (exit 1), e.g. 30s, 10m
  --limit N --page-token T   list: page size, and the page after the one that printed T
Connecting to a coordinator (submit, status, watch, list, cancel, report, delete, flips, admin; run needs none):
  --tls-ca FILE                    TLS, trusting the CA (PEM) that signed the coordinator's certificate
  --tls-cert FILE --tls-key FILE   a client certificate, for a coordinator requiring mutual TLS
  --token-file FILE                the bearer token (default $EMAR_TOKEN)
Exit codes: 0 ok, 1 error, 2 usage error, 3 a gate failed (report: as text or json only).)";

// Where a help text starts after a synopsis too long for kHelpColumn, or 0 when it would pass
// kUsageWidth (its help then goes on the next line).
size_t WideColumn(const Command& c) {
  const size_t column = 2 + std::strlen(c.synopsis) + 4;
  const size_t help =
      std::string_view(c.help).substr(0, std::string_view(c.help).find('\n')).size();
  return column < kHelpColumn || column + help > kUsageWidth ? 0 : column;
}

// "  SYNOPSIS   HELP": the help at kHelpColumn; for longer synopses at `wide_column` (one for
// them all), or on the next line when that would pass kUsageWidth. Continuation lines of the
// help go under its first line.
std::string UsageLine(const Command& c, size_t wide_column) {
  const std::vector<std::string> help = absl::StrSplit(c.help, '\n');
  const std::string indent(kHelpColumn, ' ');
  std::string line = absl::StrCat("  ", c.synopsis);
  if (line.size() < kHelpColumn) {
    line.resize(kHelpColumn, ' ');
  } else if (WideColumn(c) != 0) {
    line.resize(wide_column, ' ');
  } else {
    absl::StrAppend(&line, "\n", indent);
  }
  absl::StrAppend(&line, help[0], "\n");
  for (size_t i = 1; i < help.size(); ++i) absl::StrAppend(&line, indent, help[i], "\n");
  return line;
}

// --name with dashes, as users type it.
std::string Dashed(const std::string& name) {
  return "--" + absl::StrReplaceAll(name, {{"_", "-"}});
}

}  // namespace

std::string UsageText() {
  size_t wide_column = 0;
  for (const Command& c : Commands()) wide_column = std::max(wide_column, WideColumn(c));
  std::string text = "emarctl COMMAND [flags]\n\n";
  for (const Command& c : Commands()) absl::StrAppend(&text, UsageLine(c, wide_column));
  return text + kCommonFlags;
}

int HelpCommand(const std::vector<std::string>& args) {
  if (args.empty()) {
    std::cout << UsageText() << std::endl;
    return 0;
  }
  const Command* c = args.size() == 1 ? FindCommand(args[0]) : nullptr;
  if (c == nullptr) return Usage("help takes one command name, not '" + args[0] + "'");
  std::cout << "emarctl " << c->synopsis << "\n\n  " << absl::StrReplaceAll(c->help, {{"\n", " "}})
            << "\n";
  if (c->own_flags) {
    std::cout << "\nIts flags: emarctl " << c->name << " --help\n";
    return 0;
  }
  if (!c->flags.empty()) std::cout << "\nFlags:\n";
  for (const char* name : c->flags) {
    const absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag == nullptr) continue;  // tests/client/command_table_test.cc keeps the table right
    std::cout << "  " << Dashed(name)
              << " (default: " << (flag->DefaultValue().empty() ? "\"\"" : flag->DefaultValue())
              << ")\n      " << flag->Help() << "\n";
  }
  return 0;
}

}  // namespace emar
