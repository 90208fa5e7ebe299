//! The tables of the enumerations the C API numbers, each from one
//! declaration (the C layer's own and the engine's [`ReasonCode`]).
//!
//! cbindgen reads a `#[repr(u32)]` enum only as written (it expands no
//! macro), so each enum stays literal, with its numbers and doc comments. Beside
//! it, one `c_enum_table!` lists its variants once — with a text when the
//! enum has one (a status's message, an outcome's name) — and the macro
//! makes the rest from that list: `ALL`, `from_u32` and the text getter. The
//! getter is an exhaustive `match` without a wildcard arm, so a variant
//! added to the enum without a row does not compile, and a row written twice
//! is an unreachable pattern (an error under `-D warnings`); the table without
//! texts gets the same check from a `match` of its own. Conversions to and
//! from the engine's types are exhaustive matches beside each table.
//!
//! A public numbering (`pub enum`, rows of names) gets public `ALL`,
//! `from_u32` and `name`, and a crate-private `c_name`: the same name as a
//! NUL-terminated string, checked when the crate compiles.
//!
//! [`ReasonCode`]: crate::engine::ReasonCode

/// Declares the table of a C enumeration: see the module documentation.
///
/// ```ignore
/// c_enum_table! {
///     impl m2fa_outcome {
///         /// The name.
///         fn name(self) -> &'static CStr;
///         M2FA_OUTCOME_ALLOWED => c"allowed",
///         // ... one row per variant
///     }
/// }
/// c_enum_table! {
///     impl m2fa_device_field { M2FA_DEVICE_FIELD_ID, /* ... */ }
/// }
/// c_enum_table! {
///     pub enum ReasonCode {
///         None => "none",
///         // ... one row per variant
///     }
/// }
/// ```
///
/// The first two forms generate a private `const ALL: [Self; N]` (every
/// value, in row order), `from_u32` (the value with this number; as visible
/// as the getter) and the getter itself. The third generates public `ALL`,
/// `from_u32` and `name`, and `pub(crate) c_name`.
macro_rules! c_enum_table {
    (pub enum $enum:ident {
        $($variant:ident => $name:literal),+ $(,)?
    }) => {
        impl $enum {
            /// Every value, in the order of their numbers.
            pub const ALL: [Self; [$(stringify!($variant)),+].len()] = [$(Self::$variant),+];

            /// The value with this number, if there is one.
            pub fn from_u32(value: u32) -> Option<Self> {
                Self::ALL.into_iter().find(|v| *v as u32 == value)
            }

            /// The name: the C constant without its prefix, in lower case.
            /// Stable — never changed, never reused — so logs and scripts
            /// may rely on it.
            pub fn name(self) -> &'static str {
                match self {
                    $(Self::$variant => $name,)+
                }
            }

            /// [`Self::name`] as a NUL-terminated string (for C).
            #[cfg(feature = "capi")]
            pub(crate) fn c_name(self) -> &'static ::core::ffi::CStr {
                match self {
                    $(Self::$variant => const {
                        match ::core::ffi::CStr::from_bytes_with_nul(
                            concat!($name, "\0").as_bytes(),
                        ) {
                            Ok(name) => name,
                            Err(_) => panic!("a name with a NUL in it"),
                        }
                    },)+
                }
            }
        }
    };
    (impl $enum:ident {
        $(#[$meta:meta])*
        $vis:vis fn $getter:ident(self) -> $text:ty;
        $($variant:ident => $value:expr),+ $(,)?
    }) => {
        impl $enum {
            const ALL: [Self; [$(stringify!($variant)),+].len()] = [$(Self::$variant),+];

            /// The value with this number, if there is one.
            $vis fn from_u32(value: u32) -> Option<Self> {
                Self::ALL.into_iter().find(|v| *v as u32 == value)
            }

            $(#[$meta])*
            $vis fn $getter(self) -> $text {
                match self {
                    $(Self::$variant => $value,)+
                }
            }
        }
    };
    (impl $enum:ident { $($variant:ident),+ $(,)? }) => {
        impl $enum {
            const ALL: [Self; [$(stringify!($variant)),+].len()] = [$(Self::$variant),+];

            /// The value with this number, if there is one.
            fn from_u32(value: u32) -> Option<Self> {
                Self::ALL.into_iter().find(|v| *v as u32 == value)
            }
        }

        // Every variant has a row, and only one.
        const _: fn($enum) = |value| match value {
            $($enum::$variant => {})+
        };
    };
}
pub(crate) use c_enum_table;
