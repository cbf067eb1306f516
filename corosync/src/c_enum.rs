//! One macro for the enums of C values that the daemon or library hands back.

/// Declares an enum of C values: one variant per known value (each with its Display text), a
/// catch-all `Unknown(raw)` that keeps any other value, `raw()`, `From<raw>` (both ways) and
/// `Display` (`Unknown` shows as `unknown (N)`).
///
/// The enum's own attributes come first (docs, `#[non_exhaustive]` where the C side can grow),
/// then `path:` the public path used in the generated doctests.
macro_rules! c_enum {
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
