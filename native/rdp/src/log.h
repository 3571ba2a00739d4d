// JSON log lines on stderr: {"level":"info","time":"...","msg":"...",<fields>}. One write() per line.
// Never log secrets (passwords, preconnection blobs): callers pass only what is safe.
#ifndef GATEHOUSE_RDP_LOG_H_
#define GATEHOUSE_RDP_LOG_H_

#include <cstdint>
#include <initializer_list>
#include <string>

namespace gatehouse::rdp {

enum class LogLevel : int { kError = 0, kWarn = 1, kInfo = 2, kDebug = 3 };

// Parses "error" | "warn" | "info" | "debug".
bool parse_log_level(const std::string& text, LogLevel* out);
void set_log_level(LogLevel level);
bool log_enabled(LogLevel level);

struct LogField {
  const char* key;
  std::string value;
  bool raw;  // value is a JSON number/bool, written unquoted
};
inline LogField kv(const char* key, std::string value) { return {key, std::move(value), false}; }
inline LogField kv(const char* key, const char* value) { return {key, value ? value : "", false}; }
inline LogField kv(const char* key, int64_t value) { return {key, std::to_string(value), true}; }
inline LogField kv(const char* key, int value) { return {key, std::to_string(value), true}; }
inline LogField kv(const char* key, uint32_t value) { return {key, std::to_string(value), true}; }
inline LogField kv(const char* key, double value) { return {key, std::to_string(value), true}; }
inline LogField kv(const char* key, bool value) { return {key, value ? "true" : "false", true}; }

void log(LogLevel level, const std::string& msg, std::initializer_list<LogField> fields = {});
inline void log_error(const std::string& m, std::initializer_list<LogField> f = {}) { log(LogLevel::kError, m, f); }
inline void log_warn(const std::string& m, std::initializer_list<LogField> f = {}) { log(LogLevel::kWarn, m, f); }
inline void log_info(const std::string& m, std::initializer_list<LogField> f = {}) { log(LogLevel::kInfo, m, f); }
inline void log_debug(const std::string& m, std::initializer_list<LogField> f = {}) { log(LogLevel::kDebug, m, f); }

// Appends `text` to `out` as the inside of a JSON string (escapes, invalid UTF-8 replaced by U+FFFD).
void json_escape(const std::string& text, std::string* out);

// Routes WinPR/FreeRDP's WLog into these JSON lines (at the matching level) instead of its console
// appender, which writes to stdout, the Guacamole channel.
void install_wlog_bridge();

}  // namespace gatehouse::rdp

#endif  // GATEHOUSE_RDP_LOG_H_
