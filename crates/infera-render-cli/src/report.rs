//! Printing diagnostics and output, without ever panicking on a closed pipe.

use infera_render::Diagnostics;
use std::io::Write;

/// Prints every diagnostic to stderr (sorted: errors first, in source order), then a summary line
/// when there is anything to report.
pub fn diagnostics(file: &str, diagnostics: &Diagnostics) {
    let mut sorted = diagnostics.clone();
    sorted.sort();
    let mut stderr = std::io::stderr().lock();
    for diagnostic in &sorted {
        let _ = writeln!(stderr, "{}", diagnostic.render(file));
    }
    if !sorted.is_empty() {
        let verdict = if sorted.has_errors() {
            "invalid"
        } else {
            "valid"
        };
        let _ = writeln!(
            stderr,
            "infera-render: {file}: {verdict} ({})",
            sorted.summary()
        );
    }
}

/// Prints an I/O or usage problem to stderr.
pub fn problem(message: &str) {
    let _ = writeln!(std::io::stderr().lock(), "error: {message}");
}

/// Prints a note (information the user needs, not a problem) to stderr.
pub fn note(message: &str) {
    let _ = writeln!(std::io::stderr().lock(), "note: {message}");
}

/// Prints a warning that is not about the spec to stderr.
pub fn warning(message: &str) {
    let _ = writeln!(std::io::stderr().lock(), "warning: {message}");
}

/// Writes `text` to stdout.
///
/// # Errors
/// When stdout cannot be written (a closed pipe is not reported, just returned).
pub fn stdout(text: &str) -> Result<(), ()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Err(()),
        Err(error) => {
            problem(&format!("cannot write to standard output: {error}"));
            Err(())
        }
    }
}

/// Whether `diff` colours its report: stdout is a terminal and `NO_COLOR` is unset or empty
/// (no-color.org).
#[must_use]
pub fn stdout_is_coloured() -> bool {
    use std::io::IsTerminal;
    std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
}
