//! GNU `getopt` and `getopt_long`, as glibc parses a command line, for the tools whose options,
//! messages and exit statuses must equal corosync's tools byte for byte.
//!
//! What it does as glibc does (in its default, permuting mode):
//! - options and operands may be mixed; operands keep their order and are collected apart
//!   ([`Getopt::operands`]); `--` ends the options; `-` alone is an operand;
//! - short options combine (`-bs`), and take their argument attached (`-k3`) or as the next
//!   element (`-k 3`, even if it starts with `-`);
//! - long options (only with [`Getopt::long`]) take `--name=value` or `--name value`, and any
//!   unambiguous prefix of a name;
//! - errors are glibc's messages, with `argv[0]` first, e.g.
//!   `cfgtool: option '--kill' requires an argument`.
//!
//! With `POSIXLY_CORRECT` in the environment glibc stops at the first operand, and so does
//! this parser ([`Getopt::posixly_correct`] overrides what it found).
//!
//! ```
//! use std::ffi::OsString;
//! use corosync_examples::getopt::{Getopt, HasArg, LongOption};
//!
//! let argv: Vec<OsString> = ["tool", "-bk", "3", "operand", "--stat"].map(Into::into).to_vec();
//! const LONG: &[LongOption] = &[LongOption::new("status", HasArg::No, 's')];
//! let mut getopt = Getopt::new(&argv, "bk:s").long(LONG);
//! let options: Vec<(char, Option<String>)> = getopt
//!     .by_ref()
//!     .map(|o| o.map(|o| (o.option, o.arg.map(|a| a.to_string_lossy().into_owned()))))
//!     .collect::<Result<_, _>>()
//!     .unwrap();
//! assert_eq!(options, [('b', None), ('k', Some("3".to_owned())), ('s', None)]);
//! assert_eq!(getopt.operands(), ["operand"]);
//! ```

use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::os::unix::ffi::OsStrExt;

/// Whether an option takes an argument (`no_argument`, `required_argument`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HasArg {
    /// The option takes none.
    No,
    /// The option needs one.
    Required,
}

/// One entry of `getopt_long`'s `struct option` array.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LongOption {
    /// The name, without the leading `--`.
    pub name: &'static str,
    /// Whether it takes an argument.
    pub has_arg: HasArg,
    /// What [`Opt::option`] says for it: usually its short form; `'\0'` for an option that has
    /// none (where C sets a flag and getopt_long returns 0).
    pub val: char,
}

impl LongOption {
    /// An entry, as `{name, has_arg, NULL, val}` in C.
    pub const fn new(name: &'static str, has_arg: HasArg, val: char) -> Self {
        LongOption { name, has_arg, val }
    }
}

/// One option found on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Opt<'a> {
    /// The short option, or the `val` of the long one.
    pub option: char,
    /// Its argument, if it takes one.
    pub arg: Option<&'a OsStr>,
}

/// A command-line error, with the message glibc prints for it (without the newline).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetoptError {
    message: Vec<u8>,
}

impl GetoptError {
    /// The message, as bytes: `argv[0]` and the options may not be UTF-8.
    pub fn message(&self) -> &[u8] {
        &self.message
    }

    /// Writes the message and a newline to stderr, as glibc does when it finds the error.
    pub fn print(&self) {
        let mut stderr = std::io::stderr().lock();
        let _ = stderr.write_all(&self.message);
        let _ = stderr.write_all(b"\n");
    }
}

/// The parser: an iterator over the options, in command-line order. See the module docs.
#[derive(Debug)]
pub struct Getopt<'a> {
    argv: &'a [OsString],
    shorts: &'static str,
    longs: &'static [LongOption],
    posixly_correct: bool,
    /// The next element of `argv` to look at.
    index: usize,
    /// The rest of a group of short options being read (`-bs` after `b`: `s`).
    group: &'a [u8],
    operands: Vec<&'a OsStr>,
    done: bool,
}

impl<'a> Getopt<'a> {
    /// Parses `argv` (with the program name first, as C's `argv`) like `getopt` with the
    /// option string `shorts` (`"bk:s"`: a letter per option, a colon after each that takes
    /// an argument).
    pub fn new(argv: &'a [OsString], shorts: &'static str) -> Self {
        Getopt {
            argv,
            shorts,
            longs: &[],
            posixly_correct: std::env::var_os("POSIXLY_CORRECT").is_some(),
            index: 1,
            group: &[],
            operands: Vec::new(),
            done: false,
        }
    }

    /// Parses like `getopt_long` with these long options, in the C array's order (ambiguity
    /// messages list candidates in it).
    pub fn long(mut self, longs: &'static [LongOption]) -> Self {
        self.longs = longs;
        self
    }

    /// Whether to stop at the first operand, as glibc does when `POSIXLY_CORRECT` is set in
    /// the environment (which [`Getopt::new`] looks at).
    pub fn posixly_correct(mut self, yes: bool) -> Self {
        self.posixly_correct = yes;
        self
    }

    /// The operands (everything that is not an option or an option's argument), in order. All
    /// of them are known once the iterator has returned `None`.
    pub fn operands(&self) -> &[&'a OsStr] {
        &self.operands
    }

    fn program(&self) -> &'a [u8] {
        self.argv.first().map_or(&[][..], |a| a.as_bytes())
    }

    fn error(&self, parts: &[&[u8]]) -> GetoptError {
        let mut message = self.program().to_vec();
        message.extend_from_slice(b": ");
        for part in parts {
            message.extend_from_slice(part);
        }
        GetoptError { message }
    }

    /// The next element of `argv` as an option's argument, if there is one.
    fn take_next(&mut self) -> Option<&'a OsStr> {
        let next = self.argv.get(self.index)?;
        self.index += 1;
        Some(next.as_os_str())
    }

    fn short(&mut self) -> Result<Opt<'a>, GetoptError> {
        let byte = self.group[0];
        self.group = &self.group[1..];
        let spec = self.shorts.as_bytes();
        let position = spec
            .iter()
            .position(|&b| b == byte)
            .filter(|_| byte != b':');
        let Some(position) = position else {
            return Err(self.error(&[b"invalid option -- '", &[byte], b"'"]));
        };
        let option = char::from(byte);
        if spec.get(position + 1) != Some(&b':') {
            return Ok(Opt { option, arg: None });
        }
        let arg = if !self.group.is_empty() {
            Some(OsStr::from_bytes(std::mem::take(&mut self.group)))
        } else {
            self.take_next()
        };
        match arg {
            Some(arg) => Ok(Opt {
                option,
                arg: Some(arg),
            }),
            None => Err(self.error(&[b"option requires an argument -- '", &[byte], b"'"])),
        }
    }

    /// `text` is the element without its leading `--`.
    fn long_option(&mut self, text: &'a [u8]) -> Result<Opt<'a>, GetoptError> {
        let (name, value) = match text.iter().position(|&b| b == b'=') {
            Some(eq) => (&text[..eq], Some(&text[eq + 1..])),
            None => (text, None),
        };
        let found = match self.longs.iter().find(|o| o.name.as_bytes() == name) {
            Some(exact) => exact,
            None => {
                let mut candidates = self
                    .longs
                    .iter()
                    .filter(|o| o.name.as_bytes().starts_with(name));
                let Some(first) = candidates.next() else {
                    return Err(self.error(&[b"unrecognized option '--", text, b"'"]));
                };
                // glibc lists the first match and every later one that differs from it; one
                // that behaves exactly like the first is no ambiguity.
                let others: Vec<&LongOption> = candidates
                    .filter(|o| (o.has_arg, o.val) != (first.has_arg, first.val))
                    .collect();
                if !others.is_empty() {
                    let mut message =
                        vec![&b"option '--"[..], text, b"' is ambiguous; possibilities:"];
                    for candidate in std::iter::once(first).chain(others) {
                        message.extend_from_slice(&[b" '--", candidate.name.as_bytes(), b"'"]);
                    }
                    return Err(self.error(&message));
                }
                first
            }
        };
        let full = found.name.as_bytes();
        let arg = match (found.has_arg, value) {
            (HasArg::No, Some(_)) => {
                return Err(self.error(&[b"option '--", full, b"' doesn't allow an argument"]))
            }
            (HasArg::No, None) => None,
            (HasArg::Required, Some(value)) => Some(OsStr::from_bytes(value)),
            (HasArg::Required, None) => match self.take_next() {
                Some(next) => Some(next),
                None => return Err(self.error(&[b"option '--", full, b"' requires an argument"])),
            },
        };
        Ok(Opt {
            option: found.val,
            arg,
        })
    }
}

impl<'a> Iterator for Getopt<'a> {
    type Item = Result<Opt<'a>, GetoptError>;

    fn next(&mut self) -> Option<Self::Item> {
        if !self.group.is_empty() {
            return Some(self.short());
        }
        while !self.done {
            let Some(element) = self.argv.get(self.index) else {
                self.done = true;
                break;
            };
            self.index += 1;
            let bytes = element.as_bytes();
            if bytes == b"--" {
                self.operands
                    .extend(self.argv[self.index..].iter().map(OsString::as_os_str));
                self.done = true;
            } else if bytes.len() < 2 || bytes[0] != b'-' {
                if self.posixly_correct {
                    self.operands
                        .extend(self.argv[self.index - 1..].iter().map(OsString::as_os_str));
                    self.done = true;
                } else {
                    self.operands.push(element.as_os_str());
                }
            } else if bytes[1] == b'-' && !self.longs.is_empty() {
                return Some(self.long_option(&bytes[2..]));
            } else {
                self.group = &bytes[1..];
                return Some(self.short());
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LONG: &[LongOption] = &[
        LongOption::new("if", HasArg::Required, 'i'),
        LongOption::new("status", HasArg::No, 's'),
        LongOption::new("reload", HasArg::No, 'R'),
        LongOption::new("reopen", HasArg::No, 'L'),
        LongOption::new("kill", HasArg::Required, 'k'),
        LongOption::new("force", HasArg::No, '\0'),
    ];

    fn argv(args: &[&str]) -> Vec<OsString> {
        std::iter::once("prog")
            .chain(args.iter().copied())
            .map(OsString::from)
            .collect()
    }

    /// The options as `c` or `c=arg`, the operands after `|`, or the first error's message.
    fn parse(shorts: &'static str, longs: &'static [LongOption], args: &[&str]) -> String {
        let argv = argv(args);
        let mut getopt = Getopt::new(&argv, shorts).long(longs);
        let mut out = Vec::new();
        for item in getopt.by_ref() {
            match item {
                Ok(Opt { option, arg: None }) => out.push(option.to_string()),
                Ok(Opt {
                    option,
                    arg: Some(arg),
                }) => out.push(format!("{option}={}", arg.to_string_lossy())),
                Err(err) => return String::from_utf8_lossy(err.message()).into_owned(),
            }
        }
        let operands: Vec<_> = getopt
            .operands()
            .iter()
            .map(|o| o.to_string_lossy())
            .collect();
        format!("{} | {}", out.join(" "), operands.join(" "))
    }

    #[test]
    fn short_options_combine_and_take_arguments_attached_or_next() {
        assert_eq!(
            parse("bk:s", &[], &["-bs", "-k3", "-k", "-4"]),
            "b s k=3 k=-4 | "
        );
        assert_eq!(parse("bk:s", &[], &["-bk", "7"]), "b k=7 | ");
    }

    #[test]
    fn operands_are_permuted_to_the_end_and_dashes_end_the_options() {
        assert_eq!(
            parse("bs", &[], &["x", "-b", "-", "y", "-s"]),
            "b s | x - y"
        );
        assert_eq!(parse("bs", &[], &["x", "--", "-b", "y"]), " | x -b y");
        assert_eq!(parse("b", &[], &[""]), " | ");
    }

    #[test]
    fn posixly_correct_stops_at_the_first_operand() {
        let argv = argv(&["-b", "x", "-b"]);
        let mut getopt = Getopt::new(&argv, "b").posixly_correct(true);
        assert_eq!(
            getopt.next(),
            Some(Ok(Opt {
                option: 'b',
                arg: None
            }))
        );
        assert_eq!(getopt.next(), None);
        assert_eq!(getopt.operands(), ["x", "-b"]);
    }

    #[test]
    fn short_errors_are_glibcs_messages() {
        assert_eq!(parse("b", &[], &["-x"]), "prog: invalid option -- 'x'");
        assert_eq!(
            parse("b:", &[], &["-b"]),
            "prog: option requires an argument -- 'b'"
        );
        assert_eq!(parse("b:", &[], &["-:"]), "prog: invalid option -- ':'");
        // Plain getopt has no long options: "--x" is the options '-' and 'x'.
        assert_eq!(parse("b", &[], &["--b"]), "prog: invalid option -- '-'");
    }

    #[test]
    fn long_options_take_prefixes_and_arguments() {
        assert_eq!(
            parse("", LONG, &["--stat", "--kill=3", "--if", "a"]),
            "s k=3 i=a | "
        );
        assert_eq!(parse("", LONG, &["--forc", "x"]), "\0 | x");
        // An exact name wins over longer names it is a prefix of.
        const EXACT: &[LongOption] = &[
            LongOption::new("node", HasArg::No, 'n'),
            LongOption::new("nodes", HasArg::No, 'N'),
        ];
        assert_eq!(parse("", EXACT, &["--node"]), "n | ");
        assert_eq!(parse("", EXACT, &["--nodes"]), "N | ");
    }

    #[test]
    fn long_errors_are_glibcs_messages() {
        assert_eq!(
            parse("", LONG, &["--bogus=1"]),
            "prog: unrecognized option '--bogus=1'"
        );
        assert_eq!(
            parse("", LONG, &["--re"]),
            "prog: option '--re' is ambiguous; possibilities: '--reload' '--reopen'"
        );
        assert_eq!(
            parse("", LONG, &["--stat=1"]),
            "prog: option '--status' doesn't allow an argument"
        );
        assert_eq!(
            parse("", LONG, &["--ki"]),
            "prog: option '--kill' requires an argument"
        );
        // Candidates that behave the same are no ambiguity.
        const SAME: &[LongOption] = &[
            LongOption::new("verbose", HasArg::No, 'v'),
            LongOption::new("verbosity", HasArg::No, 'v'),
        ];
        assert_eq!(parse("", SAME, &["--verb"]), "v | ");
    }

    /// The same command lines through glibc's own getopt / getopt_long (stderr captured):
    /// the same options, arguments, operands and messages.
    mod glibc_agrees {
        use super::*;
        use std::ffi::{c_char, c_int, CStr, CString};
        use std::io::{Read, Seek};
        use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

        extern "C" {
            static mut optind: c_int;
            static mut optarg: *mut c_char;
        }

        /// What glibc makes of `args`: the same text as `parse` above.
        fn glibc(shorts: &str, longs: &[LongOption], args: &[&str]) -> String {
            let strings: Vec<CString> = argv(args)
                .iter()
                .map(|a| CString::new(a.as_bytes()).unwrap())
                .collect();
            let mut pointers: Vec<*mut c_char> =
                strings.iter().map(|s| s.as_ptr().cast_mut()).collect();
            pointers.push(std::ptr::null_mut());
            let names: Vec<CString> = longs
                .iter()
                .map(|o| CString::new(o.name).unwrap())
                .collect();
            let mut table: Vec<libc::option> = longs
                .iter()
                .zip(&names)
                .map(|(o, name)| libc::option {
                    name: name.as_ptr(),
                    has_arg: match o.has_arg {
                        HasArg::No => 0,
                        HasArg::Required => 1,
                    },
                    flag: std::ptr::null_mut(),
                    val: o.val as c_int,
                })
                .collect();
            table.push(libc::option {
                name: std::ptr::null(),
                has_arg: 0,
                flag: std::ptr::null_mut(),
                val: 0,
            });
            let spec = CString::new(shorts).unwrap();
            let argc = c_int::try_from(strings.len()).unwrap();

            // glibc prints its messages on fd 2: send them to a temporary file meanwhile.
            let mut capture = tempfile();
            // SAFETY: dup of the process's stderr; the result is owned and closed below.
            let saved = unsafe { OwnedFd::from_raw_fd(libc::dup(2)) };
            // SAFETY: both fds are open; fd 2 is restored before this function returns.
            unsafe { libc::dup2(capture.as_raw_fd(), 2) };
            let mut out = Vec::new();
            let mut failed = false;
            // SAFETY: optind = 0 makes glibc start a new scan; argv, the option string and
            // the table are NUL-terminated and outlive the loop; optarg is read right after
            // the call that set it. The caller holds LOCK, so no other thread uses getopt.
            let operands = unsafe {
                optind = 0;
                loop {
                    let c = if longs.is_empty() {
                        libc::getopt(argc, pointers.as_ptr(), spec.as_ptr())
                    } else {
                        libc::getopt_long(
                            argc,
                            pointers.as_ptr(),
                            spec.as_ptr(),
                            table.as_ptr(),
                            std::ptr::null_mut(),
                        )
                    };
                    if c == -1 {
                        break;
                    }
                    if c == c_int::from(b'?') {
                        failed = true;
                        break;
                    }
                    let option = char::from(u8::try_from(c).unwrap());
                    if optarg.is_null() {
                        out.push(option.to_string());
                    } else {
                        let arg = CStr::from_ptr(optarg).to_string_lossy();
                        out.push(format!("{option}={arg}"));
                    }
                }
                let first = usize::try_from(optind).unwrap();
                pointers[first..pointers.len() - 1]
                    .iter()
                    .map(|&p| CStr::from_ptr(p).to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
            };
            // SAFETY: puts back the saved stderr.
            unsafe { libc::dup2(saved.as_raw_fd(), 2) };
            let mut message = String::new();
            capture.seek(std::io::SeekFrom::Start(0)).unwrap();
            capture.read_to_string(&mut message).unwrap();
            if failed {
                // Our parser stops at the first error; the tools exit there too.
                return message.lines().next().unwrap_or_default().to_owned();
            }
            format!("{} | {}", out.join(" "), operands.join(" "))
        }

        fn tempfile() -> std::fs::File {
            let path = std::env::temp_dir().join(format!("getopt-test-{}", std::process::id()));
            let file = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(true)
                .open(&path)
                .unwrap();
            std::fs::remove_file(&path).unwrap();
            file
        }

        #[test]
        fn on_the_tools_option_strings() {
            let cases: &[(&'static str, &'static [LongOption], &[&str])] = &[
                ("m:hqgsdDtTbp:C:", &[], &["-g", "a", "-b", "b", "--", "-q"]),
                ("m:hqgsdDtTbp:C:", &[], &["x", "-mstats", "-qg", "y", "-C"]),
                ("m:hqgsdDtTbp:C:", &[], &["-x"]),
                ("m:hqgsdDtTbp:C:", &[], &["--long"]),
                ("m:hqgsdDtTbp:C:", &[], &["-", "", "-p", "-", "z"]),
                ("hd:ne", &[], &["-nd:", "-e", "-d"]),
                (
                    "VHaslpmfe:v:hin:o:",
                    &[],
                    &["-ae3", "-n", "-1", "-o", "i", "q"],
                ),
                ("VHaslpmfe:v:hin:o:", &[], &["-v"]),
                ("VHaslpmfe:v:hin:o:", &[], &["-:"]),
                (
                    "i:snbrRLk:a:hH",
                    LONG,
                    &["-bs", "--if", "7", "op", "--stat"],
                ),
                ("i:snbrRLk:a:hH", LONG, &["-H", "--forc", "--kill=3", "-k4"]),
                ("i:snbrRLk:a:hH", LONG, &["--re"]),
                ("i:snbrRLk:a:hH", LONG, &["--status=1"]),
                ("i:snbrRLk:a:hH", LONG, &["--kill"]),
                ("i:snbrRLk:a:hH", LONG, &["--bogus=x"]),
                ("i:snbrRLk:a:hH", LONG, &["-x"]),
                ("i:snbrRLk:a:hH", LONG, &["--", "--status"]),
                ("i:snbrRLk:a:hH", LONG, &["-i", "--status", "-n"]),
            ];
            static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
            let _guard = LOCK.lock().unwrap();
            for &(shorts, longs, args) in cases {
                assert_eq!(
                    parse(shorts, longs, args),
                    glibc(shorts, longs, args),
                    "{args:?}"
                );
            }
        }
    }
}
