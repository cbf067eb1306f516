//! Value types and values: the owned [`Value`], the borrowed [`ValueRef`], and the sealed
//! traits behind the generic [`Cmap::get`] and [`Cmap::set`].

use corosync_sys as sys;

use super::key::KeyBuf;
use super::Cmap;
use crate::c_enum::c_enum;
use crate::error::cs_result;
use crate::{cstr, Error, Result};

c_enum! {
    /// The type of a stored value: the values of C's `cmap_value_types_t`.
    ///
    /// Its [`Display`](std::fmt::Display) is the short name corosync-cmapctl uses (`u32`, `str`,
    /// `bin`, ...), and [`ValueType::from_name`] parses it. A type a newer corosync adds is
    /// [`ValueType::Unknown`]: its keys are still listed, but their values cannot be read.
    ///
    /// ```
    /// use corosync::cmap::ValueType;
    /// assert_eq!(ValueType::U32.to_string(), "u32");
    /// assert_eq!(ValueType::from_name("dbl"), Some(ValueType::Double));
    /// assert_eq!(ValueType::I16.fixed_len(), Some(2));
    /// assert_eq!(ValueType::String.fixed_len(), None);
    /// assert_eq!(ValueType::from(6), ValueType::U32);
    /// ```
    #[non_exhaustive]
    pub enum ValueType: sys::cmap_value_types_t;
    path: "corosync::cmap::ValueType";
    /// `i8` (`CMAP_VALUETYPE_INT8`).
    I8 = sys::CMAP_VALUETYPE_INT8 => "i8",
    /// `u8` (`CMAP_VALUETYPE_UINT8`).
    U8 = sys::CMAP_VALUETYPE_UINT8 => "u8",
    /// `i16` (`CMAP_VALUETYPE_INT16`).
    I16 = sys::CMAP_VALUETYPE_INT16 => "i16",
    /// `u16` (`CMAP_VALUETYPE_UINT16`).
    U16 = sys::CMAP_VALUETYPE_UINT16 => "u16",
    /// `i32` (`CMAP_VALUETYPE_INT32`).
    I32 = sys::CMAP_VALUETYPE_INT32 => "i32",
    /// `u32` (`CMAP_VALUETYPE_UINT32`).
    U32 = sys::CMAP_VALUETYPE_UINT32 => "u32",
    /// `i64` (`CMAP_VALUETYPE_INT64`).
    I64 = sys::CMAP_VALUETYPE_INT64 => "i64",
    /// `u64` (`CMAP_VALUETYPE_UINT64`).
    U64 = sys::CMAP_VALUETYPE_UINT64 => "u64",
    /// `f32` (`CMAP_VALUETYPE_FLOAT`).
    Float = sys::CMAP_VALUETYPE_FLOAT => "flt",
    /// `f64` (`CMAP_VALUETYPE_DOUBLE`).
    Double = sys::CMAP_VALUETYPE_DOUBLE => "dbl",
    /// A string without NUL bytes (`CMAP_VALUETYPE_STRING`); corosync stores it with a
    /// terminating NUL, which counts in its length.
    String = sys::CMAP_VALUETYPE_STRING => "str",
    /// Raw bytes (`CMAP_VALUETYPE_BINARY`).
    Binary = sys::CMAP_VALUETYPE_BINARY => "bin",
}

impl ValueType {
    /// Every value type, in the order of the C enum.
    ///
    /// ```
    /// use corosync::cmap::ValueType;
    /// assert_eq!(ValueType::ALL.len(), 12);
    /// assert_eq!(ValueType::ALL[0], ValueType::I8);
    /// ```
    pub const ALL: [ValueType; 12] = [
        ValueType::I8,
        ValueType::U8,
        ValueType::I16,
        ValueType::U16,
        ValueType::I32,
        ValueType::U32,
        ValueType::I64,
        ValueType::U64,
        ValueType::Float,
        ValueType::Double,
        ValueType::String,
        ValueType::Binary,
    ];

    /// The short name corosync-cmapctl uses: `i8`, `u8`, `i16`, `u16`, `i32`, `u32`, `i64`,
    /// `u64`, `flt`, `dbl`, `str`, `bin`; `unknown` for [`ValueType::Unknown`] (whose
    /// [`Display`](std::fmt::Display) adds the number).
    ///
    /// ```
    /// use corosync::cmap::ValueType;
    /// assert_eq!(ValueType::Float.name(), "flt");
    /// assert_eq!(ValueType::Unknown(99).name(), "unknown");
    /// ```
    pub const fn name(self) -> &'static str {
        match self {
            ValueType::I8 => "i8",
            ValueType::U8 => "u8",
            ValueType::I16 => "i16",
            ValueType::U16 => "u16",
            ValueType::I32 => "i32",
            ValueType::U32 => "u32",
            ValueType::I64 => "i64",
            ValueType::U64 => "u64",
            ValueType::Float => "flt",
            ValueType::Double => "dbl",
            ValueType::String => "str",
            ValueType::Binary => "bin",
            ValueType::Unknown(_) => "unknown",
        }
    }

    /// The type whose [`name`](ValueType::name) is `name`.
    ///
    /// ```
    /// use corosync::cmap::ValueType;
    /// assert_eq!(ValueType::from_name("bin"), Some(ValueType::Binary));
    /// assert_eq!(ValueType::from_name("u128"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<ValueType> {
        ValueType::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The size in bytes of a number type, `None` for strings and binary values.
    ///
    /// ```
    /// assert_eq!(corosync::cmap::ValueType::Double.fixed_len(), Some(8));
    /// ```
    pub const fn fixed_len(self) -> Option<usize> {
        match self {
            ValueType::I8 | ValueType::U8 => Some(1),
            ValueType::I16 | ValueType::U16 => Some(2),
            ValueType::I32 | ValueType::U32 | ValueType::Float => Some(4),
            ValueType::I64 | ValueType::U64 | ValueType::Double => Some(8),
            ValueType::String | ValueType::Binary | ValueType::Unknown(_) => None,
        }
    }
}

/// An owned value with its type, as [`Cmap::get_value`] returns it.
///
/// ```no_run
/// use corosync::cmap::{Cmap, Value};
/// # fn main() -> corosync::Result<()> {
/// let cmap = Cmap::new()?;
/// match cmap.get_value("totem.token")? {
///     Value::U32(ms) => println!("token timeout {ms} ms"),
///     other => println!("unexpected type {}", other.value_type()),
/// }
/// cmap.set("example.answer", Value::U8(42))?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// An `i8`.
    I8(i8),
    /// A `u8`.
    U8(u8),
    /// An `i16`.
    I16(i16),
    /// A `u16`.
    U16(u16),
    /// An `i32`.
    I32(i32),
    /// A `u32`.
    U32(u32),
    /// An `i64`.
    I64(i64),
    /// A `u64`.
    U64(u64),
    /// An `f32` (`CMAP_VALUETYPE_FLOAT`).
    Float(f32),
    /// An `f64` (`CMAP_VALUETYPE_DOUBLE`).
    Double(f64),
    /// A string (without the NUL corosync stores after it).
    String(String),
    /// Raw bytes.
    Binary(Vec<u8>),
}

impl Value {
    /// Reads an owned value of type `raw_type` from the bytes corosync stores for it, as
    /// `ValueRef::from_raw` and then `to_value` would, but a string is checked as UTF-8 in
    /// the same pass that looks for its NUL, which finds most values ASCII.
    #[inline(always)]
    pub(crate) fn from_raw(raw_type: sys::cmap_value_types_t, bytes: &[u8]) -> Result<Self> {
        if raw_type == sys::CMAP_VALUETYPE_STRING {
            let (text, ascii) = crate::cstr::until_nul_ascii(bytes);
            return string_value(text, ascii).map(|text| Value::String(text.to_owned()));
        }
        ValueRef::from_raw(raw_type, bytes)?.to_value()
    }

    /// The value's type.
    ///
    /// ```
    /// use corosync::cmap::{Value, ValueType};
    /// assert_eq!(Value::String("x".into()).value_type(), ValueType::String);
    /// ```
    pub fn value_type(&self) -> ValueType {
        self.as_value_ref().value_type()
    }

    /// A borrowed view of the value.
    ///
    /// ```
    /// use corosync::cmap::{Value, ValueRef};
    /// let v = Value::Binary(vec![1, 2]);
    /// assert_eq!(v.as_value_ref(), ValueRef::Binary(&[1, 2]));
    /// ```
    pub fn as_value_ref(&self) -> ValueRef<'_> {
        match self {
            Value::I8(v) => ValueRef::I8(*v),
            Value::U8(v) => ValueRef::U8(*v),
            Value::I16(v) => ValueRef::I16(*v),
            Value::U16(v) => ValueRef::U16(*v),
            Value::I32(v) => ValueRef::I32(*v),
            Value::U32(v) => ValueRef::U32(*v),
            Value::I64(v) => ValueRef::I64(*v),
            Value::U64(v) => ValueRef::U64(*v),
            Value::Float(v) => ValueRef::Float(*v),
            Value::Double(v) => ValueRef::Double(*v),
            Value::String(v) => ValueRef::String(v.as_bytes()),
            Value::Binary(v) => ValueRef::Binary(v),
        }
    }
}

macro_rules! value_from {
    ($($t:ty => $variant:ident),* $(,)?) => {
        $(
            impl From<$t> for Value {
                fn from(v: $t) -> Value {
                    Value::$variant(v.into())
                }
            }
        )*
    };
}

value_from! {
    i8 => I8, u8 => U8, i16 => I16, u16 => U16, i32 => I32, u32 => U32, i64 => I64,
    u64 => U64, f32 => Float, f64 => Double, String => String, &str => String,
    Vec<u8> => Binary, &[u8] => Binary,
}

/// A value borrowed from libcmap's buffer (in a track event) or from the caller's, with its
/// type. Strings are bytes, like corosync stores them: without the terminating NUL, and not
/// checked for UTF-8 until [`ValueRef::as_str`] or [`ValueRef::to_value`] is called.
///
/// ```
/// use corosync::cmap::{Value, ValueRef};
/// let text = ValueRef::String(b"node1");
/// assert_eq!(text.as_str(), Ok("node1"));
/// assert_eq!(text.to_value(), Ok(Value::String("node1".into())));
/// assert_eq!(ValueRef::U32(7).to_value(), Ok(Value::U32(7)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ValueRef<'a> {
    /// An `i8`.
    I8(i8),
    /// A `u8`.
    U8(u8),
    /// An `i16`.
    I16(i16),
    /// A `u16`.
    U16(u16),
    /// An `i32`.
    I32(i32),
    /// A `u32`.
    U32(u32),
    /// An `i64`.
    I64(i64),
    /// A `u64`.
    U64(u64),
    /// An `f32`.
    Float(f32),
    /// An `f64`.
    Double(f64),
    /// A string's bytes, without the terminating NUL.
    String(&'a [u8]),
    /// Raw bytes.
    Binary(&'a [u8]),
}

impl<'a> ValueRef<'a> {
    /// The value's type.
    ///
    /// ```
    /// use corosync::cmap::{ValueRef, ValueType};
    /// assert_eq!(ValueRef::Double(0.5).value_type(), ValueType::Double);
    /// ```
    pub fn value_type(&self) -> ValueType {
        match self {
            ValueRef::I8(_) => ValueType::I8,
            ValueRef::U8(_) => ValueType::U8,
            ValueRef::I16(_) => ValueType::I16,
            ValueRef::U16(_) => ValueType::U16,
            ValueRef::I32(_) => ValueType::I32,
            ValueRef::U32(_) => ValueType::U32,
            ValueRef::I64(_) => ValueType::I64,
            ValueRef::U64(_) => ValueType::U64,
            ValueRef::Float(_) => ValueType::Float,
            ValueRef::Double(_) => ValueType::Double,
            ValueRef::String(_) => ValueType::String,
            ValueRef::Binary(_) => ValueType::Binary,
        }
    }

    /// The text of a string value: [`Error::WrongType`] for other types,
    /// [`Error::InvalidUtf8`] if the bytes are not UTF-8.
    ///
    /// ```
    /// use corosync::cmap::ValueRef;
    /// assert_eq!(ValueRef::String(b"abc").as_str(), Ok("abc"));
    /// assert!(ValueRef::U8(1).as_str().is_err());
    /// ```
    pub fn as_str(&self) -> Result<&'a str> {
        match *self {
            ValueRef::String(bytes) => string_value(bytes, false),
            other => Err(Error::WrongType {
                expected: ValueType::String.name(),
                found: other.value_type().name(),
            }),
        }
    }

    /// Copies the value into an owned [`Value`]; fails only for a string that is not UTF-8.
    ///
    /// ```
    /// use corosync::cmap::{Value, ValueRef};
    /// assert_eq!(ValueRef::I64(-1).to_value(), Ok(Value::I64(-1)));
    /// ```
    // Inlined so that after `from_raw` its match folds into the one on the C type.
    #[inline]
    pub fn to_value(&self) -> Result<Value> {
        Ok(match *self {
            ValueRef::I8(v) => Value::I8(v),
            ValueRef::U8(v) => Value::U8(v),
            ValueRef::I16(v) => Value::I16(v),
            ValueRef::U16(v) => Value::U16(v),
            ValueRef::I32(v) => Value::I32(v),
            ValueRef::U32(v) => Value::U32(v),
            ValueRef::I64(v) => Value::I64(v),
            ValueRef::U64(v) => Value::U64(v),
            ValueRef::Float(v) => Value::Float(v),
            ValueRef::Double(v) => Value::Double(v),
            ValueRef::String(_) => Value::String(self.as_str()?.to_owned()),
            ValueRef::Binary(bytes) => Value::Binary(bytes.to_vec()),
        })
    }

    /// Reads a value of type `raw_type` from the bytes corosync stores for it. A number
    /// whose length does not match its type, or an unknown type, is
    /// [`Error::UnexpectedValue`]; a string ends at its first NUL.
    // Always inlined: it runs right after a request, and a call is one more piece of code
    // to fetch with cold caches (out of line, 25 instructions per key of an iteration more).
    #[inline(always)]
    pub(crate) fn from_raw(raw_type: sys::cmap_value_types_t, bytes: &'a [u8]) -> Result<Self> {
        /// The bytes of a number of `N` bytes, or the error for a length that does not match.
        #[inline]
        fn number<const N: usize>(bytes: &[u8]) -> Result<[u8; N]> {
            match bytes.try_into() {
                Ok(array) => Ok(array),
                Err(_) => Err(wrong_length(bytes.len())),
            }
        }
        // Out of line: the usual path stays short (it runs right after a request, with cold
        // caches).
        #[cold]
        fn wrong_length(len: usize) -> Error {
            Error::UnexpectedValue {
                what: "cmap value length",
                value: len as i64,
            }
        }
        // One match on the C value itself that also checks the length (the check of
        // `ValueType::fixed_len`): one jump, not a conversion to `ValueType` and a second
        // match. A unit test checks that both agree on every C value.
        Ok(match raw_type {
            sys::CMAP_VALUETYPE_INT8 => ValueRef::I8(i8::from_ne_bytes(number(bytes)?)),
            sys::CMAP_VALUETYPE_UINT8 => ValueRef::U8(u8::from_ne_bytes(number(bytes)?)),
            sys::CMAP_VALUETYPE_INT16 => ValueRef::I16(i16::from_ne_bytes(number(bytes)?)),
            sys::CMAP_VALUETYPE_UINT16 => ValueRef::U16(u16::from_ne_bytes(number(bytes)?)),
            sys::CMAP_VALUETYPE_INT32 => ValueRef::I32(i32::from_ne_bytes(number(bytes)?)),
            sys::CMAP_VALUETYPE_UINT32 => ValueRef::U32(u32::from_ne_bytes(number(bytes)?)),
            sys::CMAP_VALUETYPE_INT64 => ValueRef::I64(i64::from_ne_bytes(number(bytes)?)),
            sys::CMAP_VALUETYPE_UINT64 => ValueRef::U64(u64::from_ne_bytes(number(bytes)?)),
            sys::CMAP_VALUETYPE_FLOAT => ValueRef::Float(f32::from_ne_bytes(number(bytes)?)),
            sys::CMAP_VALUETYPE_DOUBLE => ValueRef::Double(f64::from_ne_bytes(number(bytes)?)),
            sys::CMAP_VALUETYPE_STRING => ValueRef::String(crate::cstr::until_nul_ascii(bytes).0),
            sys::CMAP_VALUETYPE_BINARY => ValueRef::Binary(bytes),
            raw => {
                return Err(Error::UnexpectedValue {
                    what: "cmap value type",
                    value: i64::from(raw),
                })
            }
        })
    }
}

/// The text of a string value's bytes (`ascii` if a scan found them so, see
/// [`cstr::utf8`](crate::cstr::utf8)), or the error for bytes that are not UTF-8.
#[inline(always)]
fn string_value(bytes: &[u8], ascii: bool) -> Result<&str> {
    crate::cstr::utf8(bytes, ascii).map_err(|_| Error::InvalidUtf8 {
        what: "cmap string value",
    })
}

impl<'a> From<&'a Value> for ValueRef<'a> {
    fn from(value: &'a Value) -> Self {
        value.as_value_ref()
    }
}

pub(crate) mod sealed {
    /// Keeps the value traits closed: their hidden methods call C.
    pub trait Sealed {}
}

/// A Rust type that [`Cmap::get`] can read: `i8`..`u64`, `f32`, `f64`, [`String`],
/// `Vec<u8>` and [`Value`] (any type).
///
/// Numbers are read with the typed C getters (`cmap_get_uint32`, ...), everything else with
/// one buffered `cmap_get`. A stored value of another type is [`Error::WrongType`]: nothing is
/// ever converted. This trait is sealed.
///
/// ```no_run
/// # fn main() -> corosync::Result<()> {
/// let cmap = corosync::cmap::Cmap::new()?;
/// let token: u32 = cmap.get("totem.token")?;
/// let name = cmap.get::<String>("totem.cluster_name")?;
/// # Ok(()) }
/// ```
pub trait FromCmap: Sized + sealed::Sealed {
    #[doc(hidden)]
    fn get_from(cmap: &Cmap, key: &KeyBuf) -> Result<Self>;
}

/// A Rust value that [`Cmap::set`] can store: `i8`..`u64`, `f32`, `f64` (stored with that
/// type), `str` and [`String`] (string), `[u8]`, `[u8; N]` and `Vec<u8>` (binary), [`Value`]
/// and [`ValueRef`] (their own type), and references to any of these.
///
/// Numbers and strings are stored with the typed C setters (`cmap_set_uint32`,
/// `cmap_set_string`, ...), binary values with `cmap_set`. A string with a NUL byte is
/// refused with [`Error::InteriorNul`] (C would cut it). This trait is sealed.
///
/// ```no_run
/// # fn main() -> corosync::Result<()> {
/// let cmap = corosync::cmap::Cmap::new()?;
/// cmap.set("example.count", 3u64)?;
/// cmap.set("example.text", "hello")?;
/// cmap.set("example.blob", &[0u8, 1, 2][..])?;
/// # Ok(()) }
/// ```
pub trait ToCmap: sealed::Sealed {
    #[doc(hidden)]
    fn set_into(&self, cmap: &Cmap, key: &KeyBuf) -> Result<()>;
}

/// After a typed getter answered `CS_ERR_INVALID_PARAM` (which libcmap also uses for "the
/// stored type is another one"): find the stored type and say which error it really is. The
/// type is read with a buffer, never with a length-only request, which the daemon's stats map
/// mishandles for some keys (see [`Cmap::info`]).
fn wrong_type(cmap: &Cmap, key: &KeyBuf, expected: ValueType, err: Error) -> Error {
    if err != Error::InvalidParam {
        return err;
    }
    match cmap.with_value_raw(key, |value| value.value_type()) {
        Ok(found) if found != expected => Error::WrongType {
            expected: expected.name(),
            found: found.name(),
        },
        Ok(_) => err,
        Err(other) => other,
    }
}

macro_rules! numbers {
    ($($t:ty, $variant:ident, $get:ident, $set:ident;)*) => {
        $(
            impl sealed::Sealed for $t {}

            impl FromCmap for $t {
                // Inlined into the caller, like the key layout: after the C call returns, a
                // separate function would be entered cold (see docs/bench-cmap.md).
                #[inline]
                fn get_from(cmap: &Cmap, key: &KeyBuf) -> Result<Self> {
                    let mut value: $t = Default::default();
                    // SAFETY: the handle is live, the key is NUL-terminated and `value` is a
                    // writable value of the C type.
                    let code = unsafe { sys::$get(cmap.raw(), key.as_ptr(), &mut value) };
                    cs_result(code)
                        .map(|()| value)
                        .map_err(|err| wrong_type(cmap, key, ValueType::$variant, err))
                }
            }

            impl ToCmap for $t {
                #[inline]
                fn set_into(&self, cmap: &Cmap, key: &KeyBuf) -> Result<()> {
                    // SAFETY: the handle is live and the key is NUL-terminated.
                    cs_result(unsafe { sys::$set(cmap.raw(), key.as_ptr(), *self) })
                }
            }
        )*
    };
}

numbers! {
    i8, I8, cmap_get_int8, cmap_set_int8;
    u8, U8, cmap_get_uint8, cmap_set_uint8;
    i16, I16, cmap_get_int16, cmap_set_int16;
    u16, U16, cmap_get_uint16, cmap_set_uint16;
    i32, I32, cmap_get_int32, cmap_set_int32;
    u32, U32, cmap_get_uint32, cmap_set_uint32;
    i64, I64, cmap_get_int64, cmap_set_int64;
    u64, U64, cmap_get_uint64, cmap_set_uint64;
    f32, Float, cmap_get_float, cmap_set_float;
    f64, Double, cmap_get_double, cmap_set_double;
}

impl sealed::Sealed for String {}

impl FromCmap for String {
    /// One buffered `cmap_get`, not `cmap_get_string`: that one first sends a length-only
    /// request, which crashes corosync 3.1.7's daemon on the `stats.schedmiss.*` keys (see
    /// [`Cmap::info`]), and it does not check the type of its second answer.
    fn get_from(cmap: &Cmap, key: &KeyBuf) -> Result<Self> {
        cmap.with_value_raw(key, |value| value.as_str().map(str::to_owned))?
    }
}

impl ToCmap for String {
    fn set_into(&self, cmap: &Cmap, key: &KeyBuf) -> Result<()> {
        self.as_str().set_into(cmap, key)
    }
}

impl sealed::Sealed for str {}

impl ToCmap for str {
    fn set_into(&self, cmap: &Cmap, key: &KeyBuf) -> Result<()> {
        set_string_bytes(cmap, key, self.as_bytes())
    }
}

fn set_string_bytes(cmap: &Cmap, key: &KeyBuf, bytes: &[u8]) -> Result<()> {
    cstr::with_c_str("cmap string value", bytes, None, |value| {
        // SAFETY: the handle is live; key and value are NUL-terminated.
        cs_result(unsafe { sys::cmap_set_string(cmap.raw(), key.as_ptr(), value) })
    })?
}

fn set_binary(cmap: &Cmap, key: &KeyBuf, bytes: &[u8]) -> Result<()> {
    // libcmap refuses a NULL value even with length 0.
    let data = if bytes.is_empty() {
        [0u8; 1].as_ptr()
    } else {
        bytes.as_ptr()
    };
    // SAFETY: the handle is live, the key is NUL-terminated and `data` points to
    // `bytes.len()` readable bytes (or to a byte that is not read when the length is 0).
    cs_result(unsafe {
        sys::cmap_set(
            cmap.raw(),
            key.as_ptr(),
            data.cast(),
            bytes.len(),
            sys::CMAP_VALUETYPE_BINARY,
        )
    })
}

impl sealed::Sealed for [u8] {}

impl ToCmap for [u8] {
    fn set_into(&self, cmap: &Cmap, key: &KeyBuf) -> Result<()> {
        set_binary(cmap, key, self)
    }
}

impl<const N: usize> sealed::Sealed for [u8; N] {}

impl<const N: usize> ToCmap for [u8; N] {
    fn set_into(&self, cmap: &Cmap, key: &KeyBuf) -> Result<()> {
        set_binary(cmap, key, self)
    }
}

impl sealed::Sealed for Vec<u8> {}

impl FromCmap for Vec<u8> {
    fn get_from(cmap: &Cmap, key: &KeyBuf) -> Result<Self> {
        cmap.with_value_raw(key, |value| match value {
            ValueRef::Binary(bytes) => Ok(bytes.to_vec()),
            other => Err(Error::WrongType {
                expected: ValueType::Binary.name(),
                found: other.value_type().name(),
            }),
        })?
    }
}

impl ToCmap for Vec<u8> {
    fn set_into(&self, cmap: &Cmap, key: &KeyBuf) -> Result<()> {
        set_binary(cmap, key, self)
    }
}

impl sealed::Sealed for Value {}

impl FromCmap for Value {
    fn get_from(cmap: &Cmap, key: &KeyBuf) -> Result<Self> {
        cmap.with_value_raw(key, |value| value.to_value())?
    }
}

impl ToCmap for Value {
    fn set_into(&self, cmap: &Cmap, key: &KeyBuf) -> Result<()> {
        self.as_value_ref().set_into(cmap, key)
    }
}

impl sealed::Sealed for ValueRef<'_> {}

impl ToCmap for ValueRef<'_> {
    fn set_into(&self, cmap: &Cmap, key: &KeyBuf) -> Result<()> {
        match *self {
            ValueRef::I8(v) => v.set_into(cmap, key),
            ValueRef::U8(v) => v.set_into(cmap, key),
            ValueRef::I16(v) => v.set_into(cmap, key),
            ValueRef::U16(v) => v.set_into(cmap, key),
            ValueRef::I32(v) => v.set_into(cmap, key),
            ValueRef::U32(v) => v.set_into(cmap, key),
            ValueRef::I64(v) => v.set_into(cmap, key),
            ValueRef::U64(v) => v.set_into(cmap, key),
            ValueRef::Float(v) => v.set_into(cmap, key),
            ValueRef::Double(v) => v.set_into(cmap, key),
            ValueRef::String(bytes) => set_string_bytes(cmap, key, bytes),
            ValueRef::Binary(bytes) => set_binary(cmap, key, bytes),
        }
    }
}

impl<T: sealed::Sealed + ?Sized> sealed::Sealed for &T {}

impl<T: ToCmap + ?Sized> ToCmap for &T {
    fn set_into(&self, cmap: &Cmap, key: &KeyBuf) -> Result<()> {
        (**self).set_into(cmap, key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_types_round_trip_through_c_values() {
        for (i, t) in ValueType::ALL.into_iter().enumerate() {
            assert_eq!(t.raw(), i as u32 + 1);
            assert_eq!(ValueType::from(t.raw()), t);
            assert_eq!(ValueType::from_name(t.name()), Some(t));
            assert_eq!(t.to_string(), t.name());
        }
        assert_eq!(ValueType::from(0), ValueType::Unknown(0));
        assert_eq!(ValueType::from(13), ValueType::Unknown(13));
        assert_eq!(ValueType::Unknown(13).fixed_len(), None);
        assert_eq!(
            ValueRef::from_raw(13, &[]),
            Err(Error::UnexpectedValue {
                what: "cmap value type",
                value: 13
            })
        );
    }

    #[test]
    fn from_raw_agrees_with_value_type_on_every_c_value() {
        let bytes = [0u8; 8];
        for raw in 0..=20 {
            let value_type = ValueType::from(raw);
            let len = value_type.fixed_len().unwrap_or(3);
            match ValueRef::from_raw(raw, &bytes[..len]) {
                Ok(value) => assert_eq!(value.value_type(), value_type, "C value {raw}"),
                Err(_) => assert!(matches!(value_type, ValueType::Unknown(_)), "C value {raw}"),
            }
            if let Some(fixed) = value_type.fixed_len() {
                assert!(ValueRef::from_raw(raw, &bytes[..fixed - 1]).is_err());
                assert!(ValueRef::from_raw(raw, &[0u8; 9][..fixed + 1]).is_err());
            }
        }
    }

    #[test]
    fn raw_values_are_read_by_type_and_length() {
        let v = 0x1234_5678u32.to_ne_bytes();
        assert_eq!(
            ValueRef::from_raw(sys::CMAP_VALUETYPE_UINT32, &v),
            Ok(ValueRef::U32(0x1234_5678))
        );
        assert!(ValueRef::from_raw(sys::CMAP_VALUETYPE_UINT64, &v).is_err());
        assert!(ValueRef::from_raw(sys::CMAP_VALUETYPE_UINT8, &[]).is_err());
        assert_eq!(
            ValueRef::from_raw(sys::CMAP_VALUETYPE_STRING, b"abc\0"),
            Ok(ValueRef::String(b"abc"))
        );
        assert_eq!(
            ValueRef::from_raw(sys::CMAP_VALUETYPE_STRING, b""),
            Ok(ValueRef::String(b""))
        );
        assert_eq!(
            ValueRef::from_raw(sys::CMAP_VALUETYPE_BINARY, b"a\0b"),
            Ok(ValueRef::Binary(b"a\0b"))
        );
        assert_eq!(
            ValueRef::from_raw(sys::CMAP_VALUETYPE_DOUBLE, &1.5f64.to_ne_bytes()),
            Ok(ValueRef::Double(1.5))
        );
    }

    #[test]
    fn strings_must_be_utf8_to_become_owned() {
        assert_eq!(
            ValueRef::String(&[0xff]).to_value(),
            Err(Error::InvalidUtf8 {
                what: "cmap string value"
            })
        );
        assert_eq!(
            ValueRef::Binary(&[0xff]).to_value(),
            Ok(Value::Binary(vec![0xff]))
        );
        assert_eq!(Value::from("x"), Value::String("x".into()));
        assert_eq!(Value::from(3u16).value_type(), ValueType::U16);
    }
}
