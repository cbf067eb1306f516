//! One macro for the enums of C values: those the daemon or library hands back, and those
//! that are only passed to C.

/// Declares an enum of C values: one variant per known value (each with its Display text), a
/// catch-all `Unknown(raw)` that keeps any other value, `raw()`, `From<raw>` (both ways) and
/// `Display` (`Unknown` shows as `unknown (N)`).
///
/// The enum's own attributes come first (docs, `#[non_exhaustive]` where the C side can grow),
/// then `path:` the public path used in the generated doctests.
///
/// An enum whose values only ever go *to* C (a choice the caller makes) has no sensible
/// `Unknown`: write `no_unknown;` after the path. It then gets `raw()`, `From<enum>` for the C
/// type, `Display`, and `TryFrom<raw>` (an unknown value is [`Error::UnexpectedValue`]) instead
/// of `From<raw>`.
///
/// [`Error::UnexpectedValue`]: crate::Error::UnexpectedValue
macro_rules! c_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident: $raw:ty;
        path: $path:literal;
        no_unknown;
        $(#[$fmeta:meta])*
        $first:ident = $fvalue:expr => $ftext:literal,
        $(
            $(#[$vmeta:meta])*
            $variant:ident = $value:expr => $text:literal,
        )*
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $vis enum $name {
            $(#[$fmeta])*
            $first,
            $(
                $(#[$vmeta])*
                $variant,
            )*
        }

        impl $name {
            /// The C value.
            ///
            /// ```
            #[doc = concat!("use ", $path, ";")]
            #[doc = concat!("let value = ", stringify!($name), "::", stringify!($first), ";")]
            #[doc = concat!("assert_eq!(", stringify!($name), "::try_from(value.raw()), Ok(value));")]
            /// ```
            pub const fn raw(self) -> $raw {
                match self {
                    $name::$first => $fvalue,
                    $( $name::$variant => $value, )*
                }
            }
        }

        impl TryFrom<$raw> for $name {
            type Error = $crate::Error;

            /// The variant of a C value; a value this build does not know is
            /// [`Error::UnexpectedValue`](crate::Error::UnexpectedValue).
            fn try_from(raw: $raw) -> ::std::result::Result<Self, $crate::Error> {
                match raw {
                    raw if raw == $fvalue => Ok($name::$first),
                    $( raw if raw == $value => Ok($name::$variant), )*
                    other => Err($crate::Error::UnexpectedValue {
                        what: stringify!($name),
                        value: i64::from(other),
                    }),
                }
            }
        }

        impl From<$name> for $raw {
            fn from(value: $name) -> $raw {
                value.raw()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                match self {
                    $name::$first => f.write_str($ftext),
                    $( $name::$variant => f.write_str($text), )*
                }
            }
        }
    };
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident: $raw:ty;
        path: $path:literal;
        $(
            $(#[$vmeta:meta])*
            $variant:ident = $value:expr => $text:literal,
        )*
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $vis enum $name {
            $(
                $(#[$vmeta])*
                $variant,
            )*
            /// A value this build does not know (a newer corosync), kept as it came.
            Unknown($raw),
        }

        impl $name {
            /// The C value.
            ///
            /// ```
            #[doc = concat!("use ", $path, ";")]
            #[doc = concat!("assert_eq!(", stringify!($name), "::Unknown(4242).raw(), 4242);")]
            /// ```
            pub const fn raw(self) -> $raw {
                match self {
                    $( $name::$variant => $value, )*
                    $name::Unknown(raw) => raw,
                }
            }
        }

        impl From<$raw> for $name {
            /// The variant of a C value; values this build does not know are `Unknown`.
            fn from(raw: $raw) -> Self {
                match raw {
                    $( raw if raw == $value => $name::$variant, )*
                    other => $name::Unknown(other),
                }
            }
        }

        impl From<$name> for $raw {
            fn from(value: $name) -> $raw {
                value.raw()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                match self {
                    $( $name::$variant => f.write_str($text), )*
                    $name::Unknown(raw) => write!(f, "unknown ({raw})"),
                }
            }
        }
    };
}

pub(crate) use c_enum;

#[cfg(test)]
mod tests {
    c_enum! {
        /// A test enum.
        #[non_exhaustive]
        pub enum Sample: u32;
        path: "corosync::Sample";
        /// One.
        One = 1 => "one",
        /// Two.
        Two = 2 => "two",
    }

    c_enum! {
        /// A test enum that only goes to C.
        pub enum ToC: i32;
        path: "corosync::ToC";
        no_unknown;
        /// Minus one.
        MinusOne = -1 => "minus one",
        /// Three.
        Three = 3 => "three",
    }

    #[test]
    fn values_without_unknown_round_trip_and_display() {
        for value in [ToC::MinusOne, ToC::Three] {
            assert_eq!(ToC::try_from(value.raw()), Ok(value));
            assert_eq!(i32::from(value), value.raw());
        }
        assert_eq!(ToC::MinusOne.raw(), -1);
        assert_eq!(ToC::Three.to_string(), "three");
        assert_eq!(
            ToC::try_from(0),
            Err(crate::Error::UnexpectedValue {
                what: "ToC",
                value: 0
            })
        );
    }

    #[test]
    fn values_round_trip_and_display() {
        for raw in [0, 1, 2, 3, u32::MAX] {
            assert_eq!(Sample::from(raw).raw(), raw);
            assert_eq!(u32::from(Sample::from(raw)), raw);
        }
        assert_eq!(Sample::from(2), Sample::Two);
        assert_eq!(Sample::from(9), Sample::Unknown(9));
        assert_eq!(Sample::One.to_string(), "one");
        assert_eq!(Sample::Unknown(9).to_string(), "unknown (9)");
    }
}
