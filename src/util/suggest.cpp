#include "util/suggest.hpp"

#include <utility>

namespace dynlib::util {
namespace {

// Characters of `a` and `b` in matching blocks: the longest common block, then recursively the parts
// left and right of it.
std::size_t matching_chars(std::string_view a, std::string_view b) {
  if (a.empty() || b.empty()) return 0;
  std::size_t best = 0, bi = 0, bj = 0;
  std::vector<std::size_t> prev(b.size() + 1, 0), cur(b.size() + 1, 0);
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      cur[j] = a[i - 1] == b[j - 1] ? prev[j - 1] + 1 : 0;
      if (cur[j] > best) {
        best = cur[j];
        bi = i - best;
        bj = j - best;
      }
    }
    std::swap(prev, cur);
  }
  if (best == 0) return 0;
  return best + matching_chars(a.substr(0, bi), b.substr(0, bj)) +
         matching_chars(a.substr(bi + best), b.substr(bj + best));
}

}  // namespace

std::string closest_name(std::string_view word, const std::vector<std::string>& names) {
  std::string best;
  double best_score = -1.0;
  for (const auto& o : names) {
    const std::size_t total = word.size() + o.size();
    if (total == 0) continue;
    const double score = 2.0 * static_cast<double>(matching_chars(o, word)) / static_cast<double>(total);
    if (score >= 0.6 && (score > best_score || (score == best_score && o > best))) {
      best = o;
      best_score = score;
    }
  }
  return best;
}

std::string did_you_mean(std::string_view word, const std::vector<std::string>& names) {
  const std::string s = closest_name(word, names);
  return s.empty() ? std::string() : " (did you mean '" + s + "'?)";
}

}  // namespace dynlib::util
