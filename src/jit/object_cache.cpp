// The JIT's cache key and entry payload (see object_cache.hpp). No LLVM here.
#include "jit/object_cache.hpp"

#include <dlfcn.h>
#include <elf.h>
#include <link.h>

#include <cstdlib>
#include <cstring>
#include <vector>

#include "jit/jit_tuning.hpp"
#include "jit/orc_engine.hpp"
#include "plugin_abi/plugin_abi.hpp"

namespace dynlib::jit {
namespace {

void put_u32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
}
void put_u64(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
}
bool get_u32(std::string_view b, std::size_t& pos, std::uint32_t& v) {
  if (pos > b.size() || b.size() - pos < 4) return false;
  v = 0;
  for (int i = 0; i < 4; ++i)
    v |= static_cast<std::uint32_t>(static_cast<unsigned char>(b[pos + i])) << (8 * i);
  pos += 4;
  return true;
}
bool get_u64(std::string_view b, std::size_t& pos, std::uint64_t& v) {
  if (pos > b.size() || b.size() - pos < 8) return false;
  v = 0;
  for (int i = 0; i < 8; ++i)
    v |= static_cast<std::uint64_t>(static_cast<unsigned char>(b[pos + i])) << (8 * i);
  pos += 8;
  return true;
}

constexpr char kPayloadMagic[8] = {'D', 'Y', 'N', 'L', 'U', 'N', 'I', 'T'};

struct BuildIdSearch {
  std::uintptr_t addr = 0;
  std::string hex;
};

int find_build_id(dl_phdr_info* info, std::size_t, void* data) {
  auto* s = static_cast<BuildIdSearch*>(data);
  bool contains = false;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const auto& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD) continue;
    const std::uintptr_t lo = info->dlpi_addr + ph.p_vaddr;
    if (s->addr >= lo && s->addr < lo + ph.p_memsz) contains = true;
  }
  if (!contains) return 0;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const auto& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_NOTE) continue;
    const char* p = reinterpret_cast<const char*>(info->dlpi_addr + ph.p_vaddr);
    const char* end = p + ph.p_memsz;
    while (p + sizeof(ElfW(Nhdr)) <= end) {
      ElfW(Nhdr) nh;
      std::memcpy(&nh, p, sizeof nh);
      const char* name = p + sizeof nh;
      const char* desc = name + ((nh.n_namesz + 3u) & ~3u);
      if (desc + nh.n_descsz > end) break;
      if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 && std::memcmp(name, "GNU", 4) == 0) {
        static const char* hex = "0123456789abcdef";
        for (std::uint32_t k = 0; k < nh.n_descsz; ++k) {
          const auto c = static_cast<unsigned char>(desc[k]);
          s->hex += hex[c >> 4];
          s->hex += hex[c & 0xF];
        }
        return 1;
      }
      p = desc + ((nh.n_descsz + 3u) & ~3u);
    }
  }
  return 1;
}

}  // namespace

std::string own_build_id() {
  static const std::string id = [] {
    BuildIdSearch s;
    s.addr = reinterpret_cast<std::uintptr_t>(&find_build_id);
    dl_iterate_phdr(&find_build_id, &s);
    return s.hex;
  }();
  return id;
}

std::string stepper_settings_text(const kernels::StepperInfo& s, std::int64_t n_state) {
  std::string out = "kind=" + std::string(s.kind_name()) + ";adaptive=" + (s.adaptive ? "1" : "0") +
                    ";implicit=" + (s.implicit ? "1" : "0") + ";family=" + s.family +
                    ";order=" + std::to_string(s.order) +
                    ";embedded_order=" + std::to_string(s.embedded_order) +
                    ";jacobian_cap=" + std::to_string(static_cast<int>(s.jacobian)) +
                    ";variational=" + (s.variational_stepping ? "1" : "0") + ";config=";
  for (std::size_t i = 0; i < s.config.size(); ++i) {
    if (i) out += ',';
    out += s.config[i].name;
  }
  out += ";ws=" + std::to_string(s.ws_size ? s.ws_size(n_state) : 0);
  out += ";iws=" + std::to_string(s.iws_size ? s.iws_size(n_state) : 0);
  return out;
}

std::string layout_signature(const kernels::Layout& L) {
  return "n_state=" + std::to_string(L.n_state) + ";n_params=" + std::to_string(L.n_params) +
         ";n_aux=" + std::to_string(L.n_aux) + ";lag_ring=" + std::to_string(L.lag_ring_size) +
         ";n_lags=" + std::to_string(L.n_lags) + ";ws=" + std::to_string(L.ws_size) +
         ";iws=" + std::to_string(L.iws_size) + ";scratch=" + std::to_string(L.scratch_size) +
         ";log_width=" + std::to_string(L.log_width) +
         ";max_events_per_step=" + std::to_string(L.max_events_per_step) +
         ";min_cap_evt=" + std::to_string(L.min_cap_evt) +
         ";runner_args=" + std::to_string(sizeof(kernels::RunnerArgs)) + ";guards=allfinite";
}

cache::CacheKey make_unit_key(const ir::ModelIR& model, const kernels::StepperInfo& stepper, ir::DType dtype,
                              const EngineInfo& engine, std::string_view runner_variant,
                              std::string_view analysis_sig, std::string_view cache_token) {
  cache::CacheKey k;
  k.family = cache::Family::Runners;
  k.model_hash = model.hash.hex();
  k.stepper = stepper.name;
  const auto layout = kernels::compute_layout(model, stepper);
  k.stepper_settings = stepper_settings_text(stepper, layout.n_state);
  k.dtype = ir::dtype_name(dtype);
  k.layout_sig = layout_signature(layout);
  k.runner_variant = std::string(runner_variant);
  k.analysis_sig = std::string(analysis_sig);
  k.cache_token = std::string(cache_token);
  k.jit = true;
  k.template_version = kJitTemplateVersion;
  k.llvm_version = engine.llvm_version;
  k.target_triple = engine.triple;
  k.host_cpu = engine.cpu;
  k.set_host_features(engine.features);
  k.extra["codegen"] = engine.codegen_flags;
  k.extra["data_layout"] = engine.data_layout;
  k.extra["plugin_abi"] = std::to_string(plugin_abi::kPluginAbiVersion);
  k.extra["plugin_build_id"] = own_build_id();
  k.extra["payload_version"] = std::to_string(kUnitPayloadVersion);
  // Every tuning knob, whole (they change the machine code).
  k.extra["tuning"] = JitTuning::get().canonical_text();
  // Test hook of codegen.cpp: a unit built with an injected fault must never be shared.
  if (const char* f = std::getenv("DYNLIB_JIT_INJECT_FAULT"); f != nullptr && *f != '\0')
    k.extra["inject_fault"] = f;
  return k;
}

std::string UnitPayload::encode() const {
  std::string out(kPayloadMagic, sizeof kPayloadMagic);
  put_u32(out, kUnitPayloadVersion);
  put_u32(out, static_cast<std::uint32_t>(parts.size()));
  for (const auto& [name, bytes] : parts) {
    put_u32(out, static_cast<std::uint32_t>(name.size()));
    out += name;
    put_u64(out, bytes.size());
    out += bytes;
  }
  return out;
}

std::string UnitPayload::decode(std::string_view b) {
  parts.clear();
  if (b.size() < 16 || std::memcmp(b.data(), kPayloadMagic, sizeof kPayloadMagic) != 0)
    return "not a dynlib JIT unit";
  std::size_t pos = 8;
  std::uint32_t version = 0, count = 0;
  if (!get_u32(b, pos, version) || version != kUnitPayloadVersion) return "unknown unit payload version";
  if (!get_u32(b, pos, count) || count > 64) return "bad part count";
  for (std::uint32_t i = 0; i < count; ++i) {
    std::uint32_t nlen = 0;
    std::uint64_t size = 0;
    if (!get_u32(b, pos, nlen) || nlen > b.size() - pos) return "truncated part name";
    std::string name(b.substr(pos, nlen));
    pos += nlen;
    if (!get_u64(b, pos, size) || size > b.size() - pos) return "truncated part '" + name + "'";
    parts[name] = std::string(b.substr(pos, size));
    pos += size;
  }
  if (pos != b.size()) return "trailing bytes after the unit payload";
  return {};
}

std::string pack_strings(const std::vector<std::string>& v) {
  std::string out;
  put_u32(out, static_cast<std::uint32_t>(v.size()));
  for (const auto& s : v) {
    put_u64(out, s.size());
    out += s;
  }
  return out;
}

bool unpack_strings(std::string_view b, std::vector<std::string>& out) {
  out.clear();
  std::size_t pos = 0;
  std::uint32_t n = 0;
  if (!get_u32(b, pos, n)) return false;
  for (std::uint32_t i = 0; i < n; ++i) {
    std::uint64_t size = 0;
    if (!get_u64(b, pos, size) || size > b.size() - pos) return false;
    out.emplace_back(b.substr(pos, size));
    pos += size;
  }
  return pos == b.size();
}

}  // namespace dynlib::jit
