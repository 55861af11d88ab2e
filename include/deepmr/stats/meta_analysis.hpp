#pragma once
// Random-effects meta-analysis of k estimates y_i with sampling variances v_i (metafor::rma.uni,
// intercept only): mu = sum w_i y_i / sum w_i with w_i = 1 / (v_i + tau^2), se = 1 / sqrt(sum w_i).
// tau^2 estimators as metafor computes them:
//   DL   DerSimonian-Laird: max(0, (Q - (k - 1)) / (sum w - sum w^2 / sum w)), w = 1 / v
//   HE   Hedges: max(0, (sum (y - mean y)^2 - (k - 1) / k sum v) / (k - 1))
//   SJ   Sidik-Jonkman: t0 * Q(t0) / (k - 1), t0 = sum (y - mean y)^2 / k, Q(t) = sum w(t) (y - mu(t))^2
//   ML, REML, EB  Fisher scoring from max(0, HE) with step halving at 0, stopping when a step is
//        <= 1e-5 (at most 100 steps); ML and REML fall back to 0 when the likelihood is higher there
//   PM   Paule-Mandel: the root of Q(tau^2) = k - 1 (0 when Q(0) < k - 1), solved to full precision
//        (metafor stops within about 1e-4, so PM agrees with it to about that)
//   FE   fixed effect: tau^2 = 0
// Knapp-Hartung multiplies the variance of mu by Q(tau^2) / (k - 1) and uses t with k - 1 df for
// the interval, the p-value and the prediction interval mu -+ crit sqrt(se^2 + tau^2).
// Cochran's Q always uses w = 1 / v; I^2 = 100 tau^2 / (tau^2 + v~) and H^2 = tau^2 / v~ + 1 with
// v~ = (k - 1) / (sum w - sum w^2 / sum w), or for FE I^2 = max(0, 100 (Q - df) / Q), H^2 = Q / df.
// I^2 is a percentage here, as in metafor.
// k = 1: the estimate is that study's (normal interval); tau^2, I^2, H^2, Q and the prediction
// interval cannot be estimated and are left empty (metafor reports 0, 0, 1, 0); Knapp-Hartung has
// no degrees of freedom, so its interval and p-value are empty too. k = 2 is an ordinary case (1 df).

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace deepmr::stats {

enum class Tau2Method { dl, reml, ml, pm, he, sj, eb, fe };

// "DL", "REML", "ML", "PM", "HE", "SJ", "EB", "FE" (any case); throws UsageError naming `option`.
Tau2Method parse_tau2_method(const std::string& text, const std::string& option = "tau2");
std::string tau2_method_name(Tau2Method method);

struct MetaOptions {
  Tau2Method tau2_method = Tau2Method::dl;
  bool knha = false;   // Knapp-Hartung adjustment
  double level = 0.95;  // confidence level of the interval and the prediction interval
};

struct MetaResult {
  bool estimable = false;
  std::string reason;  // why not estimable
  Tau2Method tau2_method = Tau2Method::dl;
  bool knha = false;
  std::size_t k = 0;

  std::optional<double> estimate, se, ci_low, ci_high, pvalue;
  std::optional<double> tau2, tau, i2, h2;  // i2 in percent
  std::optional<double> q, q_pvalue;        // Cochran's Q (fixed-effect weights)
  std::optional<long> q_df;
  std::optional<double> pi_low, pi_high;    // prediction interval for a new study's true effect
  std::optional<long> df;                   // t degrees of freedom under Knapp-Hartung
  int iterations = 0;                       // Fisher scoring steps (ML, REML, EB)

  std::string status() const;  // "ok" or "not estimable: <reason>"
};

// Estimates with their standard errors (v = se^2) or with their variances.
MetaResult meta_analysis(const std::vector<double>& estimates, const std::vector<double>& standard_errors,
                         const MetaOptions& options = {});
MetaResult meta_analysis_variances(const std::vector<double>& estimates, const std::vector<double>& variances,
                                   const MetaOptions& options = {});

}  // namespace deepmr::stats
