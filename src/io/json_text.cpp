#include "io/json_text.hpp"

#include <vector>

#include "core/error.hpp"

namespace attnlens {

using nlohmann::json;

namespace {

// Builds the tree from the SAX events itself, so that it can refuse, as the text is read:
//  - an object that names a key twice (checked against the object being built, no copy of its keys);
//  - more than `max_values` values, before the tree grows past what the caller allows.
class StrictTreeBuilder final : public nlohmann::json_sax<json> {
 public:
  StrictTreeBuilder(json& result, size_t max_values) : root_(result), max_values_(max_values) {}

  bool duplicated = false;
  std::string duplicate;  // the first key named twice in one object (when duplicated)
  std::string error;      // the parser's message for malformed text
  bool too_many = false;  // more than max_values values

  // Each value is made a json here and placed by one add(): one copy of add, not one per type.
  bool null() override { return add(json(nullptr)) != nullptr; }
  bool boolean(bool value) override { return add(json(value)) != nullptr; }
  bool number_integer(number_integer_t value) override { return add(json(value)) != nullptr; }
  bool number_unsigned(number_unsigned_t value) override { return add(json(value)) != nullptr; }
  bool number_float(number_float_t value, const string_t&) override { return add(json(value)) != nullptr; }
  bool string(string_t& value) override { return add(json(std::move(value))) != nullptr; }
  bool binary(binary_t& value) override { return add(json(std::move(value))) != nullptr; }
  bool start_object(std::size_t) override { return open(json::value_t::object); }
  bool key(string_t& name) override {
    json& object = *open_.back();
    if (object.contains(name)) {
      duplicated = true;
      duplicate = name;
      return false;
    }
    member_ = &object[name];
    return true;
  }
  bool end_object() override {
    open_.pop_back();
    return true;
  }
  bool start_array(std::size_t) override { return open(json::value_t::array); }
  bool end_array() override {
    open_.pop_back();
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) override {
    error = e.what();
    return false;
  }

 private:
  json& root_;
  const size_t max_values_;
  size_t values_ = 0;
  std::vector<json*> open_;  // the objects and arrays being filled, innermost last
  json* member_ = nullptr;   // an object's member named by the last key

  // Places a value where the text has it: the root, the end of the open array, or the member
  // the last key named. Pointers into a parent stay valid: a parent only grows once its child is closed.
  json* add(json value) {
    if (++values_ > max_values_) {
      too_many = true;
      return nullptr;
    }
    if (open_.empty()) {
      root_ = std::move(value);
      return &root_;
    }
    json& parent = *open_.back();
    if (parent.is_array()) {
      parent.push_back(std::move(value));
      return &parent.back();
    }
    *member_ = std::move(value);
    return member_;
  }
  bool open(json::value_t type) {
    json* container = add(json(type));
    if (container == nullptr) return false;
    open_.push_back(container);
    return true;
  }
};

}  // namespace

bool sax_parse_json(const char* begin, const char* end, nlohmann::json_sax<json>& reader) {
  // Always through the base class: one instantiation of the parser for every reader.
  nlohmann::json_sax<json>* sax = &reader;
  return json::sax_parse(begin, end, sax);
}

json parse_json(const char* begin, const char* end, const std::string& what, size_t max_values) {
  json result;
  StrictTreeBuilder builder(result, max_values);
  if (!sax_parse_json(begin, end, builder)) {
    if (builder.duplicated) throw Error(what + " names '" + builder.duplicate + "' twice");
    if (builder.too_many)
      throw Error(what + " holds more than " + std::to_string(max_values) + " JSON values (the limit for it)");
    throw Error(what + " is not valid JSON (" + builder.error + ")");
  }
  return result;
}

}  // namespace attnlens
