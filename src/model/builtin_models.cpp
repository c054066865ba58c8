#include "model/builtin_models.hpp"

#include <dynlib/model.hpp>

namespace dynlib::model {

std::vector<BuiltinModelFile> builtin_model_files() {
  return {detail::kBuiltinModelFiles, detail::kBuiltinModelFiles + detail::kBuiltinModelCount};
}

const BuiltinModelFile* find_builtin_model(std::string_view name) {
  if (name.size() > 5 && name.substr(name.size() - 5) == ".toml") name.remove_suffix(5);
  for (std::size_t i = 0; i < detail::kBuiltinModelCount; ++i) {
    if (name == detail::kBuiltinModelFiles[i].name) return &detail::kBuiltinModelFiles[i];
  }
  return nullptr;
}

}  // namespace dynlib::model

namespace dynlib {

std::vector<std::string> builtin_model_names() {
  std::vector<std::string> names;
  for (std::size_t i = 0; i < model::detail::kBuiltinModelCount; ++i) {
    names.emplace_back(model::detail::kBuiltinModelFiles[i].name);
  }
  return names;
}

}  // namespace dynlib
