#include "log.h"

#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <mutex>

#include <winpr/wlog.h>

namespace gatehouse::rdp {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
std::mutex g_write_mutex;

const char* level_name(LogLevel level) {
  switch (level) {
    case LogLevel::kError: return "error";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kInfo: return "info";
    case LogLevel::kDebug: return "debug";
  }
  return "info";
}

void now_iso(std::string* out) {
  struct timeval tv;
  gettimeofday(&tv, nullptr);
  struct tm tm;
  gmtime_r(&tv.tv_sec, &tm);
  char buf[64];
  snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
           tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(tv.tv_usec / 1000));
  out->append(buf);
}

void write_all(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::write(fd, s.data() + off, s.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // stderr gone: nothing sensible to do
    }
    off += static_cast<size_t>(n);
  }
}

}  // namespace

bool parse_log_level(const std::string& text, LogLevel* out) {
  if (text == "error") *out = LogLevel::kError;
  else if (text == "warn") *out = LogLevel::kWarn;
  else if (text == "info") *out = LogLevel::kInfo;
  else if (text == "debug") *out = LogLevel::kDebug;
  else return false;
  return true;
}

void set_log_level(LogLevel level) { g_level.store(static_cast<int>(level)); }

bool log_enabled(LogLevel level) { return static_cast<int>(level) <= g_level.load(); }

void json_escape(const std::string& text, std::string* out) {
  static const char* hex = "0123456789abcdef";
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  size_t n = text.size();
  for (size_t i = 0; i < n;) {
    unsigned char c = s[i];
    if (c < 0x80) {
      switch (c) {
        case '"': out->append("\\\""); break;
        case '\\': out->append("\\\\"); break;
        case '\n': out->append("\\n"); break;
        case '\r': out->append("\\r"); break;
        case '\t': out->append("\\t"); break;
        default:
          if (c < 0x20 || c == 0x7f) {
            out->append("\\u00");
            out->push_back(hex[c >> 4]);
            out->push_back(hex[c & 15]);
          } else {
            out->push_back(static_cast<char>(c));
          }
      }
      i++;
      continue;
    }
    // Multi-byte UTF-8: copy if well formed, else U+FFFD for the lead byte.
    size_t need = c >= 0xF0 && c <= 0xF4 ? 3 : c >= 0xE0 ? 2 : c >= 0xC2 && c <= 0xDF ? 1 : 0;
    bool ok = need > 0 && i + need < n;
    if (ok) {
      for (size_t k = 1; k <= need; k++) {
        if ((s[i + k] & 0xC0) != 0x80) {
          ok = false;
          break;
        }
      }
    }
    if (ok && need == 2) {
      if ((c == 0xE0 && s[i + 1] < 0xA0) || (c == 0xED && s[i + 1] > 0x9F)) ok = false;
    }
    if (ok && need == 3) {
      if ((c == 0xF0 && s[i + 1] < 0x90) || (c == 0xF4 && s[i + 1] > 0x8F)) ok = false;
    }
    if (ok) {
      out->append(text, i, need + 1);
      i += need + 1;
    } else {
      out->append("\xEF\xBF\xBD");
      i++;
    }
  }
}

void log(LogLevel level, const std::string& msg, std::initializer_list<LogField> fields) {
  if (!log_enabled(level)) return;
  std::string line;
  line.reserve(128 + msg.size());
  line.append("{\"level\":\"");
  line.append(level_name(level));
  line.append("\",\"time\":\"");
  now_iso(&line);
  line.append("\",\"pid\":");
  line.append(std::to_string(getpid()));
  line.append(",\"name\":\"gatehouse-rdp\",\"msg\":\"");
  json_escape(msg, &line);
  line.push_back('"');
  for (const auto& f : fields) {
    line.append(",\"");
    json_escape(f.key, &line);
    line.append("\":");
    if (f.raw) {
      line.append(f.value);
    } else {
      line.push_back('"');
      json_escape(f.value, &line);
      line.push_back('"');
    }
  }
  line.append("}\n");
  std::lock_guard<std::mutex> lock(g_write_mutex);
  write_all(2, line);
}

namespace {

BOOL wlog_message(const wLogMessage* msg) {
  if (!msg) return TRUE;
  LogLevel level;
  switch (msg->Level) {
    case WLOG_FATAL:
    case WLOG_ERROR: level = LogLevel::kError; break;
    case WLOG_WARN: level = LogLevel::kWarn; break;
    case WLOG_INFO: level = LogLevel::kDebug; break;  // FreeRDP's info is chatty: our debug
    default: return TRUE;                            // DEBUG/TRACE: dropped
  }
  if (!log_enabled(level)) return TRUE;
  log(level, msg->TextString ? msg->TextString : "",
      {kv("source", "freerdp"), kv("where", msg->FunctionName ? msg->FunctionName : "")});
  return TRUE;
}

BOOL wlog_ignore(const wLogMessage*) { return TRUE; }

}  // namespace

void install_wlog_bridge() {
  wLog* root = WLog_GetRoot();
  if (!root) return;
  WLog_SetLogAppenderType(root, WLOG_APPENDER_CALLBACK);
  wLogAppender* appender = WLog_GetLogAppender(root);
  if (appender) {
    static wLogCallbacks callbacks;
    callbacks.message = wlog_message;
    callbacks.data = wlog_ignore;
    callbacks.image = wlog_ignore;
    callbacks.package = wlog_ignore;
    WLog_ConfigureAppender(appender, "callbacks", &callbacks);
  }
  DWORD level = WLOG_WARN;
  if (log_enabled(LogLevel::kDebug)) level = WLOG_INFO;
  else if (!log_enabled(LogLevel::kWarn)) level = WLOG_ERROR;
  WLog_SetLogLevel(root, level);
  WLog_OpenAppender(root);
}

}  // namespace gatehouse::rdp
