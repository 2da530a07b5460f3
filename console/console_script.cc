#include "console/console_script.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/sha256.h"

namespace emar {
namespace {

constexpr char kScript[] = R"js(
(function () {
  'use strict';
  var live = document.getElementById('live');
  if (!live || !live.dataset.kind) return;
  var every = Number(live.dataset.every) || 1000;
  function get(url) {
    return fetch(url, {credentials: 'same-origin', cache: 'no-store'}).then(function (r) {
      if (!r.ok) throw new Error('HTTP ' + r.status);
      return r;
    });
  }
  function show(selector, text) {
    var e = live.querySelector(selector);
    if (e) e.textContent = text;
  }
  function job() {
    get(live.dataset.status).then(function (r) { return r.json(); }).then(function (j) {
      show('.state', j.state);
      show('.progress-text', j.progress);
      var bar = live.querySelector('progress');
      if (bar) { bar.max = Math.max(j.shards_total, 1); bar.value = j.shards_done; }
      if (!j.done) { setTimeout(job, every); return; }
      if (j.error) { show('.error', j.error); live.querySelector('.error').hidden = false; }
      if (!j.has_report) return;
      return get(live.dataset.report).then(function (r) { return r.text(); }).then(function (h) {
        document.getElementById('report').innerHTML = h;
        document.getElementById('report-links').hidden = false;
      });
    }).catch(function () { setTimeout(job, every * 5); });
  }
  var shown = null;
  function part() {
    get(live.dataset.part).then(function (r) { return r.text(); }).then(function (h) {
      if (h !== shown) { live.innerHTML = h; shown = h; }
      setTimeout(part, every);
    }).catch(function () { setTimeout(part, every * 5); });
  }
  if (live.dataset.kind === 'job') job(); else part();
})();
)js";

}  // namespace

const std::string& ConsoleScript() {
  static const std::string* script = new std::string(kScript);
  return *script;
}

const std::string& ConsoleContentSecurityPolicy() {
  static const std::string* csp = [] {
    const std::string digest = absl::HexStringToBytes(Sha256Hex(ConsoleScript()));
    return new std::string(absl::StrCat(
        "default-src 'none'; script-src 'sha256-", absl::Base64Escape(digest),
        "'; style-src 'unsafe-inline'; img-src data:; connect-src 'self'; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'"));
  }();
  return *csp;
}

}  // namespace emar
