#include "reports/conclusions.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "reports/marks.h"
#include "reports/masking.h"

namespace lrb::report_detail {

namespace {

std::optional<double> clean_accuracy(const ReportSpec& spec, const Gathered& g, const std::string& m, const std::string& a) {
  return spec.columns.empty() ? std::nullopt : mean_of(g, Key{m, a, spec.columns.front()});
}

std::string claim_sentence(const ClaimRow& r) {
  const auto& c = r.claim;
  const bool subset = r.subset && r.paper_table;
  std::string s = fmt::format("The paper's \"{}\"{} ({} − {} over {} × {}{}; its text {}", c.says,
                              subset ? " on the models this table has" : "", c.algorithm, c.baseline,
                              fmt::join(c.models, ", "), fmt::join(c.columns, ", "),
                              c.ours_on.empty() ? "" : fmt::format(", ours measured on {}", fmt::join(c.ours_on, ", ")),
                              text_value(c));
  if (subset)
    s += fmt::format(" is over all its models, its table over these {})", signed_fixed(*r.paper_table, 2));
  else if (r.paper_table)
    s += text_matches_table(c, *r.paper_table)
             ? fmt::format(", its table {})", signed_fixed(*r.paper_table, 2))
             : fmt::format(", but its own table gives {}, which does not round to the text's number)", signed_fixed(*r.paper_table, 2));
  else
    s += ")";
  if (!r.ours) return s + ": " + claim_verdict(r) + ".";
  s += ": ours " + signed_fixed(*r.ours, 2);
  if (r.interval) s += fmt::format(" {} (95 %, {})", range_text(*r.interval), r.interval->method);
  return s + ": " + claim_verdict(r) + ".";
}

}  // namespace

std::string claims_legend() {
  return fmt::format(
      "Each comparative sentence of the paper's text, recomputed as the mean of algorithm − baseline (pp) over the "
      "cells it names: on the paper's own table, and on ours with a 95 % interval (a t interval over seeds where every "
      "cell has the same two or more; otherwise the binomial sampling error of each cell's test examples: the two algorithms' cells independent, "
      "a model's columns taken as fully correlated, so the interval is not narrowed by averaging over columns). "
      "A robustness claim whose models differ in clean accuracy by more than {} pp is marked confounded.",
      kMatchedAccuracyPp);
}

std::string retention_legend(const std::string& clean_column) {
  return fmt::format("Each attacked cell as a share (%) of the same row's clean accuracy ({}), ours, then the paper's "
                     "in parentheses: robustness without the clean accuracy's scale, which differs between algorithms "
                     "and budgets.",
                     clean_column);
}

const char* const kNothingShown = "Nothing it could compare: no claim row or retention pair has a result.";
const char* const kNoLimitationFound =
    "No limitation found among those checked (clean-accuracy gaps, noise-injection control, masking flags, chance, "
    "seeds, test-set share).";

Conclusions conclusions(const ReportSpec& spec, const Gathered& g, const std::vector<ClaimRow>& claims) {
  Conclusions out;
  for (const auto& r : claims) out.shows.push_back(claim_sentence(r));

  size_t comparable = 0;
  const size_t reversed = reversed_cells(spec, g, &comparable).size();
  if (comparable)
    out.shows.push_back(fmt::format(
        "Robustness relative to BP (retention, attacked ÷ clean): {} of {} cells that both we and the paper have order "
        "the algorithm against BP the same way as the paper or within the margins, {} the reverse (⇄ in the table).",
        comparable - reversed, comparable, reversed));

  const auto near_chance = near_chance_rows(spec, g);
  // Accuracy confound: robustness of models of different clean accuracy cannot be compared.
  for (const auto& m : spec.models) {
    const auto bp = clean_accuracy(spec, g, m, "BP");
    if (!bp) continue;
    for (const auto& a : spec.algorithms) {
      const auto acc = clean_accuracy(spec, g, m, a);
      if (a == "BP" || !acc || near_chance.count({m, a}) || std::fabs(*acc - *bp) <= kMatchedAccuracyPp) continue;
      const std::string matched = row_label("BP", "matched to " + a);
      if (const auto at = clean_accuracy(spec, g, m, matched))
        out.shows.push_back(fmt::format(
            "{} {} against BP at matched clean accuracy: the row {} (a BP snapshot, clean {:.2f} vs {}'s {:.2f}) "
            "takes the place of the final BP model ({:.2f}), whose accuracy is more than {} pp away.",
            m, a, matched, *at, a, *acc, *bp, kMatchedAccuracyPp));
      else
        out.cannot_show.push_back(fmt::format(
            "{} {} against BP: clean accuracy {:.2f} vs {:.2f} ({} pp, more than {} pp apart), so its attacked cells "
            "compare models of different accuracy; no BP snapshot within {} pp of it is in this table.",
            m, a, *acc, *bp, signed_fixed(*acc - *bp, 2), kMatchedAccuracyPp, kMatchedAccuracyPp));
    }
  }
  // A matched snapshot chosen on images its row is scored on: the choice and the score are not independent.
  for (const auto& [mr, o] : g.matched_overlap)
    out.cannot_show.push_back(fmt::format(
        "{} {}: its snapshot was chosen by clean accuracy on {}, which holds {} of the {} test examples the row is "
        "scored on, so the choice saw images it is scored on (a small selection effect; a matched evaluation "
        "today chooses on the last test examples, which a suite scoring fewer than the rest does not score).",
        mr.first, mr.second, o.split, o.overlap, o.scored));
  for (const auto& m : spec.models)
    for (const auto& a : spec.algorithms)
      if (auto acc = clean_accuracy(spec, g, m, a); acc && near_chance.count({m, a}))
        out.cannot_show.push_back(fmt::format("{} {}: clean accuracy {:.2f} is within {} pp of chance ({:.2f}): its "
                                              "attacked cells say nothing about robustness.",
                                              m, a, *acc, kChanceMarginPp, spec.chance));

  // Noise-injection confound: LR trains under injected Gaussian noise, which alone is known to add robustness.
  std::vector<std::string> uncontrolled;
  for (const auto& m : spec.models)
    for (const auto& a : spec.algorithms) {
      const auto control = noise_control_of(a);
      if (control.empty() || !clean_accuracy(spec, g, m, a) || clean_accuracy(spec, g, m, control)) continue;
      uncontrolled.push_back(fmt::format("{} {} (no {} row)", m, a, control));
    }
  if (!uncontrolled.empty())
    out.cannot_show.push_back(fmt::format(
        "Whether a difference between LR and BP comes from the likelihood-ratio estimator or from the Gaussian noise LR "
        "injects while training, for {}: a BP model trained under the same noise (a Parametric-Noise-Injection-style "
        "control: trainers bp-noise-l, bp-noise-wl) is not in this table.",
        fmt::join(uncontrolled, ", ")));

  // Masking flags, one sentence per row that has any; a row near chance (or a transfer row of one) was named above.
  auto of_near_chance = [&](const std::string& m, const std::string& row) {
    return std::any_of(near_chance.begin(), near_chance.end(), [&](const auto& mr) {
      return mr.first == m && (row == mr.second || row.rfind(mr.second + " (", 0) == 0);
    });
  };
  std::map<std::pair<std::string, std::string>, std::set<int>> flags;
  for (const auto& f : masking_findings(spec, g))
    if (f.check != 5 && !of_near_chance(f.model, f.row)) flags[{f.model, f.row}].insert(f.check);
  for (const auto& [row, checks] : flags)
    out.cannot_show.push_back(fmt::format("{} {}: gradient-masking check(s) {} triggered, so its cells under the flagged "
                                          "attacks bound robust accuracy from above only (see the checks above).",
                                          row.first, row.second, fmt::join(checks, ", ")));

  // Training budget: a cell trained on a small share of the paper's schedule need not reach its accuracy or robustness.
  if (spec.schedule && !g.budget.empty()) {
    auto percent = [](double share) {
      const double p = 100 * share;
      const int decimals = p >= 10 ? 0 : p >= 1 ? 1 : 2;
      return fmt::format("{:.{}f} %", p, decimals);
    };
    std::vector<std::string> shares;
    bool all_full = true;
    std::vector<std::string> rows = spec.algorithms;
    rows.insert(rows.end(), spec.controls.begin(), spec.controls.end());
    for (const auto& m : spec.models)
      for (const auto& a : rows) {
        if (!clean_accuracy(spec, g, m, a)) continue;  // no such row in this table
        auto it = g.budget.find({m, a});
        if (it == g.budget.end()) {  // no readable config.resolved.yaml, or one without train.epochs
          all_full = false;
          shares.push_back(fmt::format("{} {} unknown (its runs' configs do not say)", m, a));
          continue;
        }
        std::vector<std::string> each;
        for (const auto& [share, divisor] : it->second) {
          all_full &= share >= 1 && divisor == 1;
          each.push_back(percent(share) + (divisor > 1 ? fmt::format(" with 1/{} of the preset's copies", divisor) : ""));
        }
        shares.push_back(fmt::format("{} {} {}", m, a, fmt::join(each, " or ")));
      }
    const auto& sc = *spec.schedule;
    const std::string schedule =
        sc.train_examples > 0 ? fmt::format("{} epochs of {} training examples", sc.epochs, sc.train_examples)
                              : fmt::format("{} full-batch epochs", sc.epochs);
    if (all_full)
      out.shows.push_back(fmt::format("Every cell trained on the whole schedule ({}; {}).", schedule, sc.source));
    else
      out.cannot_show.push_back(fmt::format(
          "The paper's training budget: against its schedule ({}; {}), the cells trained on {}; a cell short of it "
          "need not have reached the accuracy or robustness that schedule gives.",
          schedule, sc.source, fmt::join(shares, "; ")));
  }

  // Seeds and test-set share.
  size_t rows = 0, single = 0;
  // (n, the paper's count) -> columns measured on fewer examples than the paper evaluates them on
  std::map<std::pair<double, int64_t>, std::set<std::string>> subset;
  for (const auto& m : spec.models)
    for (const auto& a : spec.algorithms) {
      bool any = false, one = false;
      for (const auto& c : spec.columns) {
        auto it = g.cells.find(Key{m, a, c});
        if (it == g.cells.end() || it->second.acc.empty()) continue;
        any = true, one |= it->second.acc.size() == 1;
        const double n = min_examples(it->second);
        const auto own = spec.paper_examples.find(c);
        const int64_t whole = own != spec.paper_examples.end() ? own->second : spec.test_examples;
        if (whole > 0 && n > 0 && n < static_cast<double>(whole)) subset[{n, whole}].insert(c);
      }
      rows += any, single += any && one;
    }
  if (single)
    out.cannot_show.push_back(fmt::format(
        "Training variability for {} of {} rows: they have one seed, so their intervals hold the test-set sampling "
        "error only.",
        single, rows));
  for (const auto& [counts, cols] : subset) {
    const auto [n, whole] = counts;
    std::vector<std::string> in_order;
    for (const auto& c : spec.columns)
      if (cols.count(c)) in_order.push_back(c);
    out.cannot_show.push_back(fmt::format("The paper's sample for {}: measured on {} of the {} examples the paper "
                                          "evaluates on (the whole test set unless the report says otherwise).",
                                          fmt::join(in_order, ", "), n, whole));
  }
  return out;
}

}  // namespace lrb::report_detail
