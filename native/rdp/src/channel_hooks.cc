#include "channel_hooks.h"

#include <map>

namespace gatehouse::rdp {

namespace {

std::map<std::string, ChannelModuleFactory>& registry() {
  static std::map<std::string, ChannelModuleFactory> r;
  return r;
}

}  // namespace

ChannelModuleRegistrar::ChannelModuleRegistrar(const char* name, ChannelModuleFactory factory) {
  registry()[name] = factory;
}

std::vector<std::unique_ptr<ChannelModule>> create_channel_modules() {
  std::vector<std::unique_ptr<ChannelModule>> out;
  for (const auto& [name, factory] : registry()) out.push_back(factory());
  return out;
}

std::vector<std::string> channel_module_param_names() {
  std::vector<std::string> names;
  for (const auto& m : create_channel_modules()) {
    for (auto& n : m->param_names()) names.push_back(std::move(n));
  }
  return names;
}

std::string validate_channel_module_params(const std::map<std::string, std::string>& params) {
  for (const auto& m : create_channel_modules()) {
    std::string e = m->validate(params);
    if (!e.empty()) return e;
  }
  return "";
}

}  // namespace gatehouse::rdp
