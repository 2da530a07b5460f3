// The console's one script, inline in every page that updates itself, and the
// Content-Security-Policy that lets it (by its sha256) and nothing else run. The script polls:
// on a job's page (`<div id="live" data-kind="job">`) it fetches the job's small status JSON every
// `data-every` ms and updates the state, the progress bar and its text, then, once the job
// succeeded, fetches the report fragment and shows it, all without reloading; on a page of parts
// (`data-kind="part"`, the run's series) it fetches the fragment at `data-part` and replaces the
// shown one when it changed.
#ifndef EMAR_CONSOLE_CONSOLE_SCRIPT_H_
#define EMAR_CONSOLE_CONSOLE_SCRIPT_H_

#include <string>

namespace emar {

// The script's text, exactly as placed between <script> and </script>.
const std::string& ConsoleScript();
// The Content-Security-Policy header of every console answer: nothing from anywhere but this
// script (by hash), inline style, data: images, fetches to the console itself, forms posting to
// it; no framing.
const std::string& ConsoleContentSecurityPolicy();

}  // namespace emar

#endif  // EMAR_CONSOLE_CONSOLE_SCRIPT_H_
