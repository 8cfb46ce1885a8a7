#include "io/json_text.hpp"

#include <set>
#include <vector>

#include "core/error.hpp"

namespace attnlens {

using nlohmann::json;

namespace {

// nlohmann's tree builder behind the virtual SAX interface, keeping the keys of every object
// still open to refuse a duplicate.
class StrictTreeBuilder final : public nlohmann::json_sax<json> {
 public:
  explicit StrictTreeBuilder(json& result) : tree_(result, /*allow_exceptions=*/false) {}

  std::string duplicate;  // the first key named twice in one object
  std::string error;      // the parser's message for malformed text

  bool null() override { return tree_.null(); }
  bool boolean(bool value) override { return tree_.boolean(value); }
  bool number_integer(number_integer_t value) override { return tree_.number_integer(value); }
  bool number_unsigned(number_unsigned_t value) override { return tree_.number_unsigned(value); }
  bool number_float(number_float_t value, const string_t& text) override { return tree_.number_float(value, text); }
  bool string(string_t& value) override { return tree_.string(value); }
  bool binary(binary_t& value) override { return tree_.binary(value); }
  bool start_object(std::size_t size) override {
    open_.emplace_back();
    return tree_.start_object(size);
  }
  bool key(string_t& name) override {
    if (!open_.back().insert(name).second) {
      duplicate = name;
      return false;
    }
    return tree_.key(name);
  }
  bool end_object() override {
    open_.pop_back();
    return tree_.end_object();
  }
  bool start_array(std::size_t size) override { return tree_.start_array(size); }
  bool end_array() override { return tree_.end_array(); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) override {
    error = e.what();
    return false;
  }

 private:
  nlohmann::detail::json_sax_dom_parser<json> tree_;
  std::vector<std::set<std::string>> open_;
};

}  // namespace

bool sax_parse_json(const char* begin, const char* end, nlohmann::json_sax<json>& reader) {
  // Always through the base class: one instantiation of the parser for every reader.
  nlohmann::json_sax<json>* sax = &reader;
  return json::sax_parse(begin, end, sax);
}

json parse_json(const char* begin, const char* end, const std::string& what) {
  json result;
  StrictTreeBuilder builder(result);
  if (!sax_parse_json(begin, end, builder)) {
    if (!builder.duplicate.empty()) throw Error(what + " names '" + builder.duplicate + "' twice");
    throw Error(what + " is not valid JSON (" + builder.error + ")");
  }
  return result;
}

}  // namespace attnlens
