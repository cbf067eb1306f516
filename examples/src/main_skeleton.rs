//! The shape of the programs' `main`: run, and on error say why on stderr and exit with
//! status 1.

use std::fmt::Display;
use std::io::Write;
use std::process::ExitCode;

/// Runs `run`; on `Err`, prints `program: error` to stderr and returns status 1. Whatever
/// `run` printed to stdout is flushed first, so both streams keep their order on a terminal.
///
/// ```
/// use std::process::ExitCode;
/// // A program's `fn main() -> ExitCode`:
/// fn program() -> ExitCode {
///     corosync_examples::main_skeleton::run_main("demo", || -> corosync::Result<()> {
///         println!("corosync {}", corosync::COROSYNC_VERSION);
///         Ok(())
///     })
/// }
/// assert_eq!(program(), ExitCode::SUCCESS);
/// ```
pub fn run_main<E: Display>(program: &str, run: impl FnOnce() -> Result<(), E>) -> ExitCode {
    let result = run();
    let _ = std::io::stdout().flush();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("{program}: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Reads the next value of option `option` from `parser` as a number of type `T`, with a
/// message that names the option if it is missing or not a number.
///
/// ```
/// let mut parser = lexopt::Parser::from_args(["--count", "3"]);
/// parser.next().unwrap();
/// let count: usize = corosync_examples::main_skeleton::number(&mut parser, "--count").unwrap();
/// assert_eq!(count, 3);
/// ```
pub fn number<T>(parser: &mut lexopt::Parser, option: &str) -> Result<T, lexopt::Error>
where
    T: std::str::FromStr,
    T::Err: Display,
{
    let value = parser.value()?;
    let text = value
        .to_str()
        .ok_or_else(|| format!("{option} needs a number, not {value:?}"))?;
    text.parse()
        .map_err(|err| format!("{option} needs a number, not {text:?}: {err}").into())
}
