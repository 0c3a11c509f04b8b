// The two sections every report ends with (issue 33): "What this table shows" and "What it cannot show", each a
// list of sentences generated from the gathered numbers (claim rows, retention orderings, clean-accuracy gaps,
// masking flags, near-chance rows, seeds, test-set share), never prose written about specific results. The
// Markdown and the HTML page print the same sentences. Internal to lrb_reports.
#pragma once
#include <string>
#include <vector>

#include "reports/claims.h"
#include "reports/gather.h"

namespace lrb::report_detail {

struct Conclusions {
  std::vector<std::string> shows, cannot_show;
};

// The algorithms of BP models trained under LR's noise (the noise-injection control: trainers bp-noise-l and
// bp-noise-wl print as BP+noise-L and BP+noise-WL) start with this; a table without such a row says so under "What
// it cannot show".
inline constexpr const char* kNoiseControlAlgorithm = "BP+noise";

Conclusions conclusions(const ReportSpec& spec, const Gathered& g, const std::vector<ClaimRow>& claims);

// The words both outputs print: above the claim rows, above the retention table, and for an empty conclusion list.
std::string claims_legend();
std::string retention_legend(const std::string& clean_column);
extern const char* const kNothingShown;
extern const char* const kNoLimitationFound;

// The Markdown of the audit's sections (reports/audit_md.cpp): the claim rows' table, the retention table (every
// attacked cell as a share of its row's clean accuracy, ours and the paper's) and the two conclusion sections.
// Each returns "" when it has nothing to say (no claims, no attacked column).
std::string claims_markdown(const std::vector<ClaimRow>& rows);
std::string retention_markdown(const ReportSpec& spec, const Gathered& g);
std::string conclusions_markdown(const Conclusions& c);

}  // namespace lrb::report_detail
