// Query strings, form bodies and cookies, as the console reads them, and URL components as it
// writes them into links.
//
//   for (const auto& [k, v] : ParseQuery("label=run%3Dexp-42&by=step")) ...  // k="label", ...
#ifndef EMAR_CONSOLE_URL_H_
#define EMAR_CONSOLE_URL_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace emar {

using QueryParams = std::vector<std::pair<std::string, std::string>>;

// "%41+b" -> "A b" (a form's '+' is a space); nullopt on a malformed escape.
std::optional<std::string> PercentDecode(absl::string_view s);
// A query string or an application/x-www-form-urlencoded body, in order; malformed pairs are
// skipped.
QueryParams ParseQuery(absl::string_view query);
// The first value of `name` in `params`.
std::optional<std::string> FirstParam(const QueryParams& params, absl::string_view name);
// Every value of `name`.
std::vector<std::string> AllParams(const QueryParams& params, absl::string_view name);
// A URL component: every byte but letters, digits and -._~ as %XX.
std::string PercentEncode(absl::string_view s);
// The value of cookie `name` in a Cookie header ("a=1; b=2").
std::optional<std::string> CookieValue(absl::string_view header, absl::string_view name);

}  // namespace emar

#endif  // EMAR_CONSOLE_URL_H_
