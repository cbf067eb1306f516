//! The `--name VALUE` / `--name=VALUE` command lines of the async examples (cpg_tokio,
//! cpg_service, watch, watch_async), parsed one way with the messages their tests expect.

/// Walks `args`: `-h`/`--help` returns `Ok(false)`; every other argument must be one of
/// `names` followed by its value (in the same argument after `=`, or as the next one), which
/// goes to `set`. An unknown argument, a missing value or `set`'s error is an `Err` with the
/// message to print.
///
/// ```
/// use corosync_examples::long_options::parse;
/// let mut count = 0u32;
/// let more = parse(["--count=3".to_string()], &["--count"], |name, value| {
///     assert_eq!(name, "--count");
///     count = value.parse().map_err(|_| format!("{name}: not a count: {value:?}"))?;
///     Ok(())
/// });
/// assert_eq!((more, count), (Ok(true), 3));
/// let unknown = parse(["--bogus".to_string()], &["--count"], |_, _| Ok(()));
/// assert_eq!(unknown, Err("unknown argument \"--bogus\"".to_string()));
/// ```
pub fn parse(
    args: impl IntoIterator<Item = String>,
    names: &[&str],
    mut set: impl FnMut(&str, String) -> Result<(), String>,
) -> Result<bool, String> {
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        if arg == "-h" || arg == "--help" {
            return Ok(false);
        }
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) if name.starts_with("--") => (name.to_owned(), Some(value)),
            _ => (arg.clone(), None),
        };
        if !names.contains(&name.as_str()) {
            return Err(format!("unknown argument {arg:?}"));
        }
        let value = match inline {
            Some(value) => value.to_owned(),
            None => args.next().ok_or(format!("{name} needs a value"))?,
        };
        set(&name, value)?;
    }
    Ok(true)
}
