// gatehouse_native: a thin N-API surface over the C++ Guacamole framer (guac_framer.h).
//
//   const f = new Framer(maxElementLength, maxElements, maxInstructionBytes);
//   f.push(chunk)      // Uint8Array or Buffer -> offset past the last completed instruction, -1 none, -2 error
//   f.errorCode()      // 0, or 1..6 (ScanErrorCode)
//   f.errorOffset()    // absolute offset of the failing byte, -1 when no error
//   f.bytesSeen()      // bytes pushed so far
//
// Built with NODE_ADDON_API_DISABLE_CPP_EXCEPTIONS: errors are thrown into JavaScript and the method
// returns right away. src/native/native-framer.ts turns -2 into a GuacamoleProtocolError.
#include <napi.h>

#include <cmath>
#include <cstdint>
#include <string>

#include "guac_framer.h"

namespace {

constexpr double kMaxSafeInteger = 9007199254740991.0;  // Number.MAX_SAFE_INTEGER

class Framer : public Napi::ObjectWrap<Framer> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Framer",
                       {
                           InstanceMethod<&Framer::Push>("push"),
                           InstanceMethod<&Framer::ErrorCode>("errorCode"),
                           InstanceMethod<&Framer::ErrorOffset>("errorOffset"),
                           InstanceMethod<&Framer::BytesSeen>("bytesSeen"),
                       });
  }

  explicit Framer(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Framer>(info) {
    Napi::Env env = info.Env();
    static const char* const kNames[3] = {"maxElementLength", "maxElements", "maxInstructionBytes"};
    uint64_t values[3];
    for (size_t i = 0; i < 3; ++i) {
      if (!info[i].IsNumber()) {
        Napi::TypeError::New(env, std::string(kNames[i]) + " must be a number").ThrowAsJavaScriptException();
        return;
      }
      const double v = info[i].As<Napi::Number>().DoubleValue();
      if (!(v >= 0 && v <= kMaxSafeInteger) || std::floor(v) != v) {
        Napi::RangeError::New(env, std::string(kNames[i]) + " must be a non-negative safe integer")
            .ThrowAsJavaScriptException();
        return;
      }
      values[i] = static_cast<uint64_t>(v);
    }
    gatehouse::GuacLimits limits;
    limits.max_element_length = values[0];
    limits.max_elements = values[1];
    limits.max_instruction_bytes = values[2];
    framer_ = gatehouse::GuacFramer(limits);
  }

 private:
  Napi::Value Push(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
      Napi::TypeError::New(env, "push expects a Uint8Array or Buffer").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    Napi::Uint8Array chunk = info[0].As<Napi::Uint8Array>();
    const int64_t r = framer_.push(chunk.Data(), chunk.ElementLength());
    return Napi::Number::New(env, static_cast<double>(r));
  }

  Napi::Value ErrorCode(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), framer_.error_code());
  }

  Napi::Value ErrorOffset(const Napi::CallbackInfo& info) {
    const double offset = framer_.error_code() == 0 ? -1.0 : static_cast<double>(framer_.error_offset());
    return Napi::Number::New(info.Env(), offset);
  }

  Napi::Value BytesSeen(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(framer_.bytes_seen()));
  }

  gatehouse::GuacFramer framer_;
};

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Framer", Framer::Define(env));
  exports.Set("abiVersion", Napi::Number::New(env, 1));
  return exports;
}

}  // namespace

NODE_API_MODULE(gatehouse_native, Init)
