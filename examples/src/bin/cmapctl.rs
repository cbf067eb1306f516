//! `cmapctl`: a Rust counterpart of `corosync-cmapctl`, built on `corosync::cmap`.
//!
//! It takes the same options and prints the same lines, so that its output can be compared
//! with the C tool's on the same daemon:
//!
//! ```text
//! cmapctl [-b] [-DdghsqTCt] [-p filename] [-m map] [params...]
//!   (no action)        list every key, or the keys under each prefix given
//!   -g key...          get keys                 -q   print values only
//!   -s key type value  set a key (type: i8 u8 i16 u16 i32 u32 i64 u64 flt dbl str bin;
//!                      for bin the value is a file name, or - for stdin)
//!   -d key...          delete keys              -D prefix...  delete every key under them
//!   -t key...          track keys               -T prefix...  track prefixes
//!                      (until "q" or end of input on stdin)
//!   -p file            load a file of `[^[^]]key [type value]` lines
//!   -C knet|ipc|totem|schedmiss|all   clear statistics (selects the stats map)
//!   -m icmap|default|stats            select the map
//!   -b                 show binary values
//! ```
//!
//! Like the C tool, options may come after parameters (GNU getopt order), the last action
//! option wins, errors go to stderr with corosync's error names (`CS_ERR_NOT_EXIST`), and
//! the exit status is 1 on failure.

use std::ffi::{c_char, CString, OsString};
use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;
use std::process::ExitCode;
use std::time::Duration;

use corosync::cmap::{Cmap, EventKind, KeyInfo, Map, TrackOptions, ValueRef, ValueType};
use corosync::{DispatchMode, Error};
use corosync_examples::escape::c_escape;
use corosync_examples::getopt::Getopt;

/// How often a request answered with `CS_ERR_TRY_AGAIN` is retried, one second apart.
const MAX_TRY_AGAIN: u32 = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Get,
    Set,
    Delete,
    DeletePrefix,
    PrintPrefix,
    Track,
    Load,
    ClearStats,
}

/// How values are printed.
#[derive(Debug, Clone, Copy)]
struct Style {
    show_binary: bool,
    quiet: bool,
}

/// Ends the program with status 1 (after flushing what was printed so far).
#[derive(Debug)]
struct Exit;

type Outcome<T = ()> = Result<T, Exit>;

fn fail(message: impl AsRef<[u8]>) -> Exit {
    let _ = io::stdout().flush();
    let mut stderr = io::stderr().lock();
    let _ = stderr.write_all(message.as_ref());
    let _ = stderr.write_all(b"\n");
    Exit
}

/// `a` followed by `b`, for messages that contain raw (maybe not UTF-8) bytes.
fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// The name `cs_strerror` gives an error from corosync: the crate's `Display` of such an
/// error ends with it, e.g. "does not exist (CS_ERR_NOT_EXIST)".
fn cs_name(err: &Error) -> String {
    let text = err.to_string();
    match text.rsplit_once(" (CS_ERR_") {
        Some((_, name)) if err.code().is_some() => format!("CS_ERR_{}", name.trim_end_matches(')')),
        _ => "unknown error".to_owned(),
    }
}

/// What a request on a key does when the key is one the crate refuses before C.
#[derive(Debug, Clone, Copy)]
enum Op {
    /// get, delete, inc: the daemon would answer that such a key does not exist.
    Lookup,
    /// set: the daemon would refuse to create such a key.
    Create,
}

/// The error name corosync-cmapctl would print for `err`. Keys this crate refuses before C
/// (too short, not UTF-8) are ones the C tool sends to the daemon, so the daemon's answer is
/// named; a too long key is refused by libcmap itself with CS_ERR_NAME_TOO_LONG.
fn error_name(err: &Error, op: Op) -> String {
    let as_daemon = match (err, op) {
        (Error::TooShort { .. } | Error::InvalidUtf8 { .. }, Op::Lookup) => &Error::NotExist,
        (Error::TooShort { .. } | Error::InvalidUtf8 { .. }, Op::Create) => &Error::NameTooLong,
        (Error::TooLong { .. }, _) => &Error::NameTooLong,
        (err, _) => err,
    };
    cs_name(as_daemon)
}

/// A key or prefix from the command line or a file, as the crate takes it.
fn key_str(bytes: &[u8]) -> corosync::Result<&str> {
    std::str::from_utf8(bytes).map_err(|_| Error::InvalidUtf8 {
        what: "cmap key name",
    })
}

/// The text of an OS error as `perror` prints it (without Rust's " (os error N)").
fn os_error_text(err: &io::Error) -> String {
    let text = err.to_string();
    match text.rfind(" (os error ") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

/// `printf("%f", value)`, with C's rounding and spelling of special values.
fn c_float(value: f64) -> String {
    let mut buf = [0u8; 400];
    // SAFETY: the format takes exactly one double; snprintf writes at most `buf.len()` bytes
    // including the NUL (the longest %f of a double is about 320 bytes).
    let len = unsafe {
        libc::snprintf(
            buf.as_mut_ptr().cast::<c_char>(),
            buf.len(),
            c"%f".as_ptr(),
            value,
        )
    };
    let len = usize::try_from(len).unwrap_or(0).min(buf.len() - 1);
    String::from_utf8_lossy(&buf[..len]).into_owned()
}

/// One key's line: `key (type) = value`, or just the value with -q.
fn format_key(
    key: &[u8],
    value_type: ValueType,
    value: Option<ValueRef<'_>>,
    style: Style,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(key.len() + 32);
    if !style.quiet {
        out.extend_from_slice(key);
        out.extend_from_slice(b" (");
    }
    let number = |out: &mut Vec<u8>, text: String| {
        if !style.quiet {
            out.extend_from_slice(value_type.name().as_bytes());
            out.extend_from_slice(b") = ");
        }
        out.extend_from_slice(text.as_bytes());
    };
    match value {
        Some(ValueRef::I8(v)) => number(&mut out, v.to_string()),
        Some(ValueRef::U8(v)) => number(&mut out, v.to_string()),
        Some(ValueRef::I16(v)) => number(&mut out, v.to_string()),
        Some(ValueRef::U16(v)) => number(&mut out, v.to_string()),
        Some(ValueRef::I32(v)) => number(&mut out, v.to_string()),
        Some(ValueRef::U32(v)) => number(&mut out, v.to_string()),
        Some(ValueRef::I64(v)) => number(&mut out, v.to_string()),
        Some(ValueRef::U64(v)) => number(&mut out, v.to_string()),
        Some(ValueRef::Float(v)) => number(&mut out, c_float(f64::from(v))),
        Some(ValueRef::Double(v)) => number(&mut out, c_float(v)),
        Some(ValueRef::String(bytes)) => {
            if !style.quiet {
                out.extend_from_slice(b"str) = ");
            }
            out.extend_from_slice(bytes);
        }
        Some(ValueRef::Binary(_)) | None => {
            // The C tool prints "bin)" even in quiet mode.
            out.extend_from_slice(b"bin)");
            if style.show_binary {
                out.extend_from_slice(b" = ");
                match value {
                    Some(ValueRef::Binary(bytes)) => c_escape(&mut out, bytes),
                    _ => out.extend_from_slice(b"*empty*"),
                }
            }
        }
    }
    out.push(b'\n');
    out
}

fn print(bytes: &[u8]) {
    let _ = io::stdout().lock().write_all(bytes);
}

/// Reads `key` (of type `value_type`, as listed) and prints it, retrying while the daemon
/// says "try again"; a failure is reported on stderr and printing goes on.
fn print_key(cmap: &Cmap, key: &str, value_type: ValueType, style: Style) {
    if value_type == ValueType::Binary && !style.show_binary {
        print(&format_key(key.as_bytes(), value_type, None, style));
        return;
    }
    let mut tries = 0;
    let result = loop {
        let result = cmap.with_value(key, |value| {
            if value.value_type() == value_type {
                Ok(format_key(key.as_bytes(), value_type, Some(value), style))
            } else {
                // The C tool's typed getter fails when the type changed meanwhile.
                Err(Error::InvalidParam)
            }
        });
        match result.and_then(|line| line) {
            Err(Error::TryAgain) if tries < MAX_TRY_AGAIN => {
                tries += 1;
                std::thread::sleep(Duration::from_secs(1));
            }
            other => break other,
        }
    };
    match result {
        Ok(line) => print(&line),
        Err(err) => {
            let _ = fail(format!(
                "Can't get value of {key}. Error {}",
                error_name(&err, Op::Lookup)
            ));
        }
    }
}

/// Lists the keys under `prefix` (all with `None`); true if there were none.
fn print_prefix(cmap: &Cmap, prefix: Option<&[u8]>, style: Style) -> Outcome<bool> {
    let prefix = match prefix.map(key_str).transpose() {
        Ok(prefix) => prefix.unwrap_or(""),
        // No key has such a name.
        Err(_) => return Ok(true),
    };
    let iter = cmap.iter(prefix).map_err(|err| {
        fail(format!(
            "Failed to initialize iteration. Error {}",
            error_name(&err, Op::Lookup)
        ))
    })?;
    let mut none = true;
    // Like the C tool, the listing ends at the first error.
    for entry in iter.map_while(Result::ok) {
        none = false;
        print_key(cmap, entry.name(), entry.value_type(), style);
    }
    Ok(none)
}

fn delete_prefix(cmap: &Cmap, prefix: &[u8]) -> Outcome {
    let Ok(prefix) = key_str(prefix) else {
        return Ok(());
    };
    let iter = cmap.iter(prefix).map_err(|err| {
        fail(format!(
            "Failed to initialize iteration. Error {}",
            error_name(&err, Op::Lookup)
        ))
    })?;
    for key in iter.map_while(Result::ok).map(KeyInfo::into_name) {
        if let Err(err) = cmap.delete(&key) {
            let _ = fail(format!(
                "Can't delete key {key}. Error {}",
                error_name(&err, Op::Lookup)
            ));
        }
    }
    Ok(())
}

fn delete_key(cmap: &Cmap, key: &[u8]) -> corosync::Result<()> {
    cmap.delete(key_str(key)?)
}

/// Parses like `sscanf(text, "%ld")` (`signed`) or `"%lu"`: leading space, a sign, decimal
/// digits, stopping at the first other character; out-of-range values saturate, and `%lu`
/// negates a negative number as C does.
fn scan_integer(text: &CString, signed: bool) -> Option<i128> {
    let mut end: *mut c_char = std::ptr::null_mut();
    let start = text.as_ptr();
    // SAFETY: `text` is NUL-terminated; `end` receives a pointer into it.
    let value = unsafe {
        if signed {
            i128::from(libc::strtol(start, &mut end, 10))
        } else {
            i128::from(libc::strtoul(start, &mut end, 10))
        }
    };
    (end.cast_const() != start).then_some(value)
}

/// Parses like `sscanf(text, "%f")` (`double == false`) or `"%lf"`.
fn scan_float(text: &CString, double: bool) -> Option<f64> {
    let mut end: *mut c_char = std::ptr::null_mut();
    let start = text.as_ptr();
    // SAFETY: `text` is NUL-terminated; `end` receives a pointer into it.
    let value = unsafe {
        if double {
            libc::strtod(start, &mut end)
        } else {
            f64::from(libc::strtof(start, &mut end))
        }
    };
    (end.cast_const() != start).then_some(value)
}

/// Reads a binary value from a file, or stdin for "-".
fn read_binary(name: &[u8]) -> Outcome<Vec<u8>> {
    let mut data = Vec::new();
    let result = if name == b"-" {
        io::stdin().lock().read_to_end(&mut data)
    } else {
        match std::fs::File::open(std::ffi::OsStr::from_bytes(name)) {
            Ok(mut file) => file.read_to_end(&mut data),
            Err(err) => {
                return Err(fail(format!(
                    "Can't open input file: {}",
                    os_error_text(&err)
                )))
            }
        }
    };
    result.map_err(|err| fail(format!("Can't read input file: {}", os_error_text(&err))))?;
    Ok(data)
}

fn set_key(cmap: &Cmap, key: &[u8], type_name: &[u8], value: &[u8]) -> Outcome {
    let type_text = String::from_utf8_lossy(type_name);
    let value_text = String::from_utf8_lossy(value);
    let Some(value_type) = std::str::from_utf8(type_name)
        .ok()
        .and_then(ValueType::from_name)
    else {
        return Err(fail(format!("Unknown type {type_text}")));
    };
    let c_value = CString::new(value).map_err(|_| fail("NUL byte in value"))?;
    let invalid = || fail(format!("{value_text} is not valid {type_text} type value"));
    let out_of_range = || fail(format!("{value_text} is not valid {type_text} integer"));
    let integer = |signed: bool| scan_integer(&c_value, signed).ok_or_else(invalid);
    let key_name = key;
    let key = key_str(key);
    let result = match value_type {
        ValueType::I8 | ValueType::I16 | ValueType::I32 | ValueType::I64 => {
            let v = integer(true)?;
            let in_range = |min: i128, max: i128| (min..=max).contains(&v);
            let fits = match value_type {
                ValueType::I8 => in_range(i8::MIN.into(), i8::MAX.into()),
                ValueType::I16 => in_range(i16::MIN.into(), i16::MAX.into()),
                ValueType::I32 => in_range(i32::MIN.into(), i32::MAX.into()),
                _ => true,
            };
            if !fits {
                return Err(out_of_range());
            }
            key.and_then(|key| match value_type {
                ValueType::I8 => cmap.set(key, v as i8),
                ValueType::I16 => cmap.set(key, v as i16),
                ValueType::I32 => cmap.set(key, v as i32),
                _ => cmap.set(key, v as i64),
            })
        }
        ValueType::U8 | ValueType::U16 | ValueType::U32 | ValueType::U64 => {
            let v = integer(false)?;
            let fits = match value_type {
                ValueType::U8 => v <= u8::MAX.into(),
                ValueType::U16 => v <= u16::MAX.into(),
                ValueType::U32 => v <= u32::MAX.into(),
                _ => true,
            };
            if !fits {
                return Err(out_of_range());
            }
            key.and_then(|key| match value_type {
                ValueType::U8 => cmap.set(key, v as u8),
                ValueType::U16 => cmap.set(key, v as u16),
                ValueType::U32 => cmap.set(key, v as u32),
                _ => cmap.set(key, v as u64),
            })
        }
        ValueType::Float => {
            let v = scan_float(&c_value, false).ok_or_else(invalid)?;
            key.and_then(|key| cmap.set(key, v as f32))
        }
        ValueType::Double => {
            let v = scan_float(&c_value, true).ok_or_else(invalid)?;
            key.and_then(|key| cmap.set(key, v))
        }
        ValueType::String => key.and_then(|key| cmap.set(key, ValueRef::String(value))),
        ValueType::Binary => {
            let data = read_binary(value)?;
            if data.is_empty() {
                // libcmap refuses the NULL buffer the C tool passes for an empty file.
                Err(Error::InvalidParam)
            } else {
                key.and_then(|key| cmap.set(key, &data[..]))
            }
        }
        // from_name knows only the twelve types above.
        _ => return Err(fail(format!("Unknown type {type_text}"))),
    };
    result.map_err(|err| {
        fail(cat(&[
            b"Failed to set key ",
            key_name,
            b". Error ",
            error_name(&err, Op::Create).as_bytes(),
        ]))
    })
}

/// Splits `data` the way repeated `fgets(buf, 1024, file)` calls read it: pieces of at most
/// 1023 bytes, each ending after a newline if one comes first.
fn fgets_pieces(mut data: &[u8]) -> impl Iterator<Item = &[u8]> {
    std::iter::from_fn(move || {
        if data.is_empty() {
            return None;
        }
        let limit = data.len().min(1023);
        let len = data[..limit]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(limit, |at| at + 1);
        let (piece, rest) = data.split_at(len);
        data = rest;
        Some(piece)
    })
}

/// Loads a settings file: `[^[^]]key [type value]` per line, `#` comments.
fn load_file(cmap: &Cmap, name: &[u8]) -> Outcome {
    let data = match std::fs::read(std::ffi::OsStr::from_bytes(name)) {
        Ok(data) => data,
        Err(err) => {
            // Like the C tool: report and carry on (exit status 0).
            let _ = fail(format!("Couldn't open file.: {}", os_error_text(&err)));
            return Ok(());
        }
    };
    for piece in fgets_pieces(&data) {
        // C string functions stop at a NUL byte.
        let piece = piece.split(|&b| b == 0).next().unwrap_or_default();
        let start = piece
            .iter()
            .position(|&b| b != b' ' && b != b'\t')
            .unwrap_or(piece.len());
        let line = &piece[start..];
        if matches!(line.first(), Some(b'#' | b'\n')) {
            continue;
        }
        // strtok(line, " \n"): tokens separated by spaces and newlines.
        let mut tokens = line
            .split(|&b| b == b' ' || b == b'\n')
            .filter(|token| !token.is_empty());
        let key = tokens.next();
        match key {
            Some([b'^', b'^', prefix @ ..]) => delete_prefix(cmap, prefix)?,
            Some([b'^', key @ ..]) => {
                if let Err(err) = delete_key(cmap, key) {
                    let _ = fail(cat(&[
                        b"Can't delete key ",
                        key,
                        b". Error ",
                        error_name(&err, Op::Lookup).as_bytes(),
                    ]));
                }
            }
            _ => match (key, tokens.next(), tokens.next()) {
                (Some(key), Some(value_type), Some(value)) => {
                    set_key(cmap, key, value_type, value)?
                }
                _ => {
                    return Err(fail(cat(&[
                        b"Both type and value for key ",
                        key.unwrap_or(b"(null)"),
                        b" are required",
                    ])))
                }
            },
        }
    }
    Ok(())
}

/// Tracks `keys` (prefixes with `prefix`) and prints every change until "q" or the end of
/// stdin.
fn track(cmap: &Cmap, keys: &[Vec<u8>], prefix: bool, style: Style) -> Outcome {
    let mut track_type = TrackOptions::ADD | TrackOptions::DELETE | TrackOptions::MODIFY;
    if prefix {
        track_type |= TrackOptions::PREFIX;
    }
    let mut tracks = Vec::new();
    for key in keys {
        let result = key_str(key).and_then(|key| {
            cmap.track(key, track_type, move |_, event| {
                let (label, value): (&[u8], _) = match event.kind() {
                    EventKind::Add => (b"create> ", event.new_value()),
                    EventKind::Delete => (b"delete> ", event.old_value()),
                    EventKind::Modify => (b"modify> ", event.new_value()),
                    _ => {
                        print(b"unknown change> ");
                        return;
                    }
                };
                let line = match value {
                    Some(value) => {
                        format_key(event.key_bytes(), value.value_type(), Some(value), style)
                    }
                    // A value of a type this build does not know: the C tool prints no type.
                    None if style.quiet => b"\n".to_vec(),
                    None => cat(&[event.key_bytes(), b" (\n"]),
                };
                print(&cat(&[label, &line]));
            })
        });
        match result {
            Ok(track) => tracks.push(track),
            // A name no key can have: the C tool's track is accepted and never fires.
            Err(Error::TooShort { .. } | Error::InvalidUtf8 { .. }) => {}
            Err(err) => {
                return Err(fail(format!(
                    "Failed to add tracking function. Error {}",
                    error_name(&err, Op::Lookup)
                )))
            }
        }
    }

    print(b"Type \"q\" to finish\n");
    let _ = io::stdout().flush();
    let mut quit = false;
    while !quit {
        let ready = match corosync::poll_readable(&[cmap.as_fd(), io::stdin().as_fd()], None) {
            Ok(ready) => ready,
            Err(err) => {
                let _ = fail(format!("poll: {err}"));
                break;
            }
        };
        if ready.is_ready(1) {
            let mut input = [0u8; 256];
            // SAFETY: `input` has room for the bytes read.
            let n =
                unsafe { libc::read(libc::STDIN_FILENO, input.as_mut_ptr().cast(), input.len()) };
            let input = &input[..usize::try_from(n).unwrap_or(0)];
            // End of input, or a line starting with "q".
            quit = input.is_empty()
                || input
                    .split(|&b| b == b'\n')
                    .any(|line| line.first() == Some(&b'q'));
        }
        if ready.is_ready(0) {
            if let Err(err) = cmap.dispatch(DispatchMode::All) {
                let _ = fail(format!("Dispatch error {}", error_name(&err, Op::Lookup)));
                quit = true;
            }
            let _ = io::stdout().flush();
        }
        if !ready.any() {
            break;
        }
    }
    drop(tracks);
    Ok(())
}

/// The command line after getopt-style parsing.
struct Command {
    action: Action,
    style: Style,
    map: Map,
    track_prefix: bool,
    settings_file: Option<Vec<u8>>,
    clear: Option<Vec<u8>>,
    params: Vec<Vec<u8>>,
}

fn usage(program: &str) {
    print(
        format!(
            "\nusage: {program} [-b] [-DdghsqTCt] [-p filename] [-m map] [params...]\n\n\
             List every key:              {program} [-b]\n\
             List keys under prefixes:    {program} [-b] prefix...\n\
             Get keys:                    {program} [-b] [-q] -g key...\n\
             Set a key:                   {program} -s key type value\n\
             \x20   type: i8 u8 i16 u16 i32 u32 i64 u64 flt dbl str bin\n\
             \x20   (for bin, value is a file name, or - for stdin)\n\
             Delete keys:                 {program} -d key...\n\
             Delete keys under prefixes:  {program} -D prefix...\n\
             Track keys:                  {program} [-b] -t key...\n\
             Track prefixes:              {program} [-b] -T prefix...\n\
             Load settings from a file:   {program} -p filename\n\
             \x20   lines: [^[^]]key [type value]; ^key deletes a key, ^^prefix a prefix\n\
             Clear statistics:            {program} -C knet|ipc|totem|schedmiss|all\n\n\
             \x20   -b  show binary values     -q  print values only\n\
             \x20   -m  map: icmap (default) or stats (network and IPC statistics)\n\n"
        )
        .as_bytes(),
    );
}

/// Parses the options like glibc's getopt with "m:hqgsdDtTbp:C:" (options and parameters
/// may be mixed, "--" ends the options). `Err` carries the exit status.
fn parse(args: &[OsString]) -> Result<Command, ExitCode> {
    let program = args
        .first()
        .map(|a| a.to_string_lossy().into_owned())
        .unwrap_or_else(|| "cmapctl".to_owned());
    let mut command = Command {
        action: Action::PrintPrefix,
        style: Style {
            show_binary: false,
            quiet: false,
        },
        map: Map::Icmap,
        track_prefix: true,
        settings_file: None,
        clear: None,
        params: Vec::new(),
    };
    let mut getopt = Getopt::new(args, "m:hqgsdDtTbp:C:");
    for option in getopt.by_ref() {
        let option = option.map_err(|err| {
            err.print();
            ExitCode::FAILURE
        })?;
        let argument = || option.arg.unwrap_or_default().as_bytes().to_vec();
        match option.option {
            'h' => {
                usage(&program);
                return Err(ExitCode::SUCCESS);
            }
            'b' => command.style.show_binary = true,
            'q' => command.style.quiet = true,
            'g' => command.action = Action::Get,
            's' => command.action = Action::Set,
            'd' => command.action = Action::Delete,
            'D' => command.action = Action::DeletePrefix,
            'p' => {
                command.settings_file = Some(argument());
                command.action = Action::Load;
            }
            'C' => {
                let what = argument();
                if ![&b"knet"[..], b"totem", b"ipc", b"schedmiss", b"all"].contains(&&what[..]) {
                    let _ = fail(
                        "argument to -C should be 'knet', 'totem', 'ipc', 'schedmiss' or 'all'",
                    );
                    return Err(ExitCode::FAILURE);
                }
                command.action = Action::ClearStats;
                command.clear = Some(what);
                command.map = Map::Stats;
            }
            't' => {
                command.action = Action::Track;
                command.track_prefix = false;
            }
            'T' => command.action = Action::Track,
            'm' => {
                command.map = match &argument()[..] {
                    b"icmap" | b"default" => Map::Icmap,
                    b"stats" => Map::Stats,
                    _ => {
                        let _ = fail("invalid map name, must be 'default', 'icmap' or 'stats'");
                        return Err(ExitCode::FAILURE);
                    }
                }
            }
            _ => unreachable!("getopt returns only the options of its option string"),
        }
    }
    command.params = getopt
        .operands()
        .iter()
        .map(|a| a.as_bytes().to_vec())
        .collect();
    Ok(command)
}

fn connect(map: Map) -> Outcome<Cmap> {
    let mut tries = 0;
    loop {
        match Cmap::with_map(map) {
            Err(Error::TryAgain) if tries < MAX_TRY_AGAIN => {
                tries += 1;
                std::thread::sleep(Duration::from_secs(1));
            }
            Ok(cmap) => return Ok(cmap),
            Err(err) => {
                return Err(fail(format!(
                    "Failed to initialize the cmap API. Error {}",
                    error_name(&err, Op::Lookup)
                )))
            }
        }
    }
}

fn run(command: Command) -> Outcome {
    let params = &command.params;
    if params.is_empty()
        && !matches!(
            command.action,
            Action::Load | Action::ClearStats | Action::PrintPrefix
        )
    {
        return Err(fail("Expected key after options"));
    }
    let cmap = connect(command.map)?;
    let style = command.style;
    match command.action {
        Action::PrintPrefix => {
            let mut empty = 0;
            if params.is_empty() {
                empty += usize::from(print_prefix(&cmap, None, style)?);
            }
            for prefix in params {
                empty += usize::from(print_prefix(&cmap, Some(prefix), style)?);
            }
            if empty > 0 && empty >= params.len() {
                return Err(Exit);
            }
        }
        Action::Get => {
            for key in params {
                // The C tool asks for the type with a length-only cmap_get; reading the value
                // instead answers the same and spares the daemon's stats map a request that
                // crashes it on stats.schedmiss keys (see Cmap::info).
                match key_str(key).and_then(|k| cmap.with_value(k, |v| (k, v.value_type()))) {
                    Ok((key, value_type)) => print_key(&cmap, key, value_type, style),
                    Err(err) => {
                        return Err(fail(cat(&[
                            b"Can't get key ",
                            key,
                            b". Error ",
                            error_name(&err, Op::Lookup).as_bytes(),
                        ])))
                    }
                }
            }
        }
        Action::Delete => {
            for key in params {
                if let Err(err) = delete_key(&cmap, key) {
                    return Err(fail(cat(&[
                        b"Can't delete key ",
                        key,
                        b". Error ",
                        error_name(&err, Op::Lookup).as_bytes(),
                    ])));
                }
            }
        }
        Action::DeletePrefix => {
            for prefix in params {
                delete_prefix(&cmap, prefix)?;
            }
        }
        Action::Load => load_file(&cmap, command.settings_file.as_deref().unwrap_or_default())?,
        Action::Track => track(&cmap, params, command.track_prefix, style)?,
        Action::Set => {
            let [key, value_type, value, ..] = &params[..] else {
                return Err(fail("At least 3 parameters are expected for set"));
            };
            set_key(&cmap, key, value_type, value)?;
        }
        Action::ClearStats => {
            let what = command.clear.unwrap_or_default();
            let key = format!("stats.clear.{}", String::from_utf8_lossy(&what));
            // The C tool ignores the answer.
            let _ = cmap.set(&key, 1u32);
        }
    }
    cmap.finalize().map_err(|err| {
        fail(format!(
            "Failed to finalize the cmap API. Error {}",
            error_name(&err, Op::Lookup)
        ))
    })
}

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    let status = match parse(&args) {
        Ok(command) => match run(command) {
            Ok(()) => ExitCode::SUCCESS,
            Err(Exit) => ExitCode::FAILURE,
        },
        Err(status) => status,
    };
    let _ = io::stdout().flush();
    status
}
