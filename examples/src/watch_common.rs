//! What `watch` and `watch_async` share: their options and their output lines.

use std::fmt::Display;
use std::io::{self, Write};
use std::time::Duration;

use corosync::cmap::{EventKind, ValueRef};
use corosync::{NodeId, RingId};

#[derive(Debug)]
pub struct Options {
    pub events: Option<usize>,
    pub seconds: Duration,
    pub cmap_prefix: String,
}

/// Parses the command line: `--name VALUE` or `--name=VALUE`. `Ok(None)` means help was
/// asked for; `Err` says what is wrong.
pub fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Option<Options>, String> {
    let mut options = Options {
        events: None,
        seconds: Duration::from_secs(30),
        cmap_prefix: "watch.".to_owned(),
    };
    let more = corosync_examples::long_options::parse(
        args,
        &["--events", "--seconds", "--cmap-prefix"],
        |name, value| {
            match name {
                "--events" => {
                    let n = value
                        .parse()
                        .map_err(|_| format!("--events: not a count: {value:?}"))?;
                    options.events = Some(n);
                }
                "--seconds" => {
                    options.seconds = value
                        .parse::<f64>()
                        .ok()
                        .and_then(|s| Duration::try_from_secs_f64(s).ok())
                        .ok_or(format!("--seconds: not a number of seconds: {value:?}"))?;
                }
                _ => options.cmap_prefix = value,
            }
            Ok(())
        },
    )?;
    Ok(more.then_some(options))
}

/// Writes `ids` separated by single spaces.
pub fn write_ids(out: &mut impl Write, ids: &[NodeId]) -> io::Result<()> {
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            out.write_all(b" ")?;
        }
        write!(out, "{id}")?;
    }
    Ok(())
}

/// Writes a cmap value in the format of the module docs.
pub fn write_value(out: &mut impl Write, value: ValueRef<'_>) -> io::Result<()> {
    fn num(out: &mut impl Write, n: impl Display) -> io::Result<()> {
        write!(out, "{n}")
    }
    match value {
        ValueRef::I8(v) => num(out, v),
        ValueRef::U8(v) => num(out, v),
        ValueRef::I16(v) => num(out, v),
        ValueRef::U16(v) => num(out, v),
        ValueRef::I32(v) => num(out, v),
        ValueRef::U32(v) => num(out, v),
        ValueRef::I64(v) => num(out, v),
        ValueRef::U64(v) => num(out, v),
        ValueRef::Float(v) => num(out, v),
        ValueRef::Double(v) => num(out, v),
        ValueRef::String(bytes) => {
            // Borrowed unless the bytes are not UTF-8.
            for c in String::from_utf8_lossy(bytes).chars() {
                if c == '\\' || c.is_control() {
                    write!(out, "{}", c.escape_default())?;
                } else {
                    write!(out, "{c}")?;
                }
            }
            Ok(())
        }
        ValueRef::Binary(bytes) => bytes.iter().try_for_each(|b| write!(out, "{b:02x}")),
    }
}

/// Writes a `quorum:` line (without its newline).
pub fn write_quorum(
    out: &mut impl Write,
    quorate: bool,
    ring: RingId,
    members: &[NodeId],
) -> io::Result<()> {
    let quorate = if quorate { "yes" } else { "no" };
    write!(out, "quorum: quorate={quorate} ring={ring} members=")?;
    write_ids(out, members)
}

/// Writes a `nodelist:` line (without its newline).
pub fn write_nodelist(
    out: &mut impl Write,
    ring: RingId,
    members: &[NodeId],
    joined: &[NodeId],
    left: &[NodeId],
) -> io::Result<()> {
    write!(out, "nodelist: ring={ring} members=")?;
    write_ids(out, members)?;
    out.write_all(b" joined=")?;
    write_ids(out, joined)?;
    out.write_all(b" left=")?;
    write_ids(out, left)
}

/// Writes a `cmap:` line (without its newline); a deleted key has no new value.
pub fn write_cmap(
    out: &mut impl Write,
    kind: EventKind,
    key: &[u8],
    new_value: Option<ValueRef<'_>>,
) -> io::Result<()> {
    match kind {
        EventKind::Add => out.write_all(b"cmap: add ")?,
        EventKind::Modify => out.write_all(b"cmap: modify ")?,
        EventKind::Delete => out.write_all(b"cmap: delete ")?,
        other => write!(out, "cmap: event-{} ", other.raw())?,
    }
    out.write_all(key)?;
    match new_value {
        Some(value) => {
            write!(out, " ({}) = ", value.value_type())?;
            write_value(out, value)
        }
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Result<Option<Options>, String> {
        parse_args(list.iter().map(|s| s.to_string()))
    }

    #[test]
    fn parses_options() {
        let o = args(&[]).unwrap().unwrap();
        assert_eq!(o.events, None);
        assert_eq!(o.seconds, Duration::from_secs(30));
        assert_eq!(o.cmap_prefix, "watch.");
        let o = args(&["--events", "3", "--seconds=1.5", "--cmap-prefix", "x."])
            .unwrap()
            .unwrap();
        assert_eq!(o.events, Some(3));
        assert_eq!(o.seconds, Duration::from_millis(1500));
        assert_eq!(o.cmap_prefix, "x.");
        assert!(args(&["--help"]).unwrap().is_none());
        assert!(args(&["--events"]).is_err());
        assert!(args(&["--events", "-1"]).is_err());
        assert!(args(&["--seconds", "-1"]).is_err());
        assert!(args(&["--bogus"]).is_err());
        assert!(args(&["extra"]).is_err());
    }

    #[test]
    fn formats_values() {
        let show = |value| {
            let mut out = Vec::new();
            write_value(&mut out, value).unwrap();
            String::from_utf8(out).unwrap()
        };
        assert_eq!(show(ValueRef::U32(7)), "7");
        assert_eq!(show(ValueRef::I8(-3)), "-3");
        assert_eq!(show(ValueRef::Double(0.5)), "0.5");
        assert_eq!(show(ValueRef::String(b"hello")), "hello");
        assert_eq!(show(ValueRef::String(b"a\\b\nc\xff")), "a\\\\b\\nc\u{fffd}");
        assert_eq!(show(ValueRef::Binary(&[0, 0xab])), "00ab");
        let mut out = Vec::new();
        write_ids(&mut out, &[NodeId::from(1), NodeId::from(3)]).unwrap();
        assert_eq!(out, b"1 3");
    }
}
