// Error classes: message texts worded like the reference's, and the located display of ModelLoadError
// (message, then "  --> file:line:col (toml path)", the offending line and a caret, like rustc).
#include <algorithm>
#include <dynlib/errors.hpp>
#include <dynlib/results.hpp>
#include <string>
#include <utility>

namespace dynlib {
namespace {

std::string format_model_error(const std::string& message, const SourceLocation& w) {
  std::string out = message;
  if (!w.known()) return out;
  // Gutter: at least two columns wide, the line number right-aligned in it (rustc layout).
  std::string line_no = w.line > 0 ? std::to_string(w.line) : std::string();
  const std::size_t width = std::max<std::size_t>(2, line_no.size());
  line_no.insert(0, width - line_no.size(), ' ');
  const std::string pad(width, ' ');
  out.append("\n").append(pad).append("--> ");
  if (!w.file.empty()) {
    out += w.file;
    if (w.line > 0) {
      out.append(":").append(std::to_string(w.line));
      if (w.column > 0) out.append(":").append(std::to_string(w.column));
    }
    if (!w.toml_path.empty()) out.append(" (").append(w.toml_path).append(")");
  } else if (w.line > 0) {
    out += "line " + std::to_string(w.line);
    if (w.column > 0) out += ", column " + std::to_string(w.column);
    if (!w.toml_path.empty()) out += " (" + w.toml_path + ")";
  } else {
    out += w.toml_path;
  }
  if (w.line > 0 && !w.line_text.empty()) {
    std::string text = w.line_text;
    while (!text.empty() && (text.back() == '\r' || text.back() == '\n')) text.pop_back();
    out.append("\n").append(pad).append(" |");
    out.append("\n").append(line_no).append(" | ").append(text);
    if (w.column > 0) {
      // Keep tabs so the caret lines up with the text above it.
      std::string lead;
      for (int i = 0; i < w.column - 1; ++i) {
        lead += (static_cast<std::size_t>(i) < text.size() && text[static_cast<std::size_t>(i)] == '\t')
                    ? '\t'
                    : ' ';
      }
      out.append("\n").append(pad).append(" | ").append(lead).append("^");
    }
  }
  return out;
}

std::string not_found_message(const std::string& uri, const std::vector<std::string>& candidates) {
  std::string m = "Model not found: " + uri + "\nSearched locations:";
  for (const auto& c : candidates) m += "\n  - " + c;
  return m;
}

std::string ambiguous_message(const std::string& uri, const std::vector<std::string>& matches) {
  std::string m = "Ambiguous model reference: " + uri + "\nMultiple matches found:";
  for (const auto& c : matches) m += "\n  - " + c;
  m += "\nPlease use an explicit filename.";
  return m;
}

}  // namespace

ModelLoadError::ModelLoadError(std::string message, SourceLocation where)
    : DynlibError(format_model_error(message, where)),
      message_(std::move(message)),
      where_(std::move(where)) {}

ModelNotFoundError::ModelNotFoundError(std::string uri_, std::vector<std::string> candidates_)
    : DynlibError(not_found_message(uri_, candidates_)),
      uri(std::move(uri_)),
      candidates(std::move(candidates_)) {}

PathTraversalError::PathTraversalError(std::string uri_, std::string attempted_, std::string root_)
    : DynlibError("Path traversal detected: " + uri_ + "\nAttempted: " + attempted_ + "\nRoot: " + root_),
      uri(std::move(uri_)),
      attempted(std::move(attempted_)),
      root(std::move(root_)) {}

AmbiguousModelError::AmbiguousModelError(std::string uri_, std::vector<std::string> matches_)
    : DynlibError(ambiguous_message(uri_, matches_)), uri(std::move(uri_)), matches(std::move(matches_)) {}

StepperKindMismatchError::StepperKindMismatchError(std::string stepper, std::string stepper_kind,
                                                   std::string model_kind)
    : DynlibError("Stepper '" + stepper + "' (kind='" + stepper_kind +
                  "') is incompatible with model kind '" + model_kind +
                  "'\nPlease choose a stepper that supports '" + model_kind + "' models.") {}

SimulationError::SimulationError(const std::string& msg, Status status, double t, std::int64_t step,
                                 std::shared_ptr<const Results> partial)
    : DynlibError(msg), status_(status), t_(t), step_(step), partial_(std::move(partial)) {}

const Results& SimulationError::partial_results() const {
  static const Results empty;
  return partial_ ? *partial_ : empty;
}

}  // namespace dynlib
