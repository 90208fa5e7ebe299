//! The tables of the C enumerations, each from one declaration.
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
///     impl m2fa_protocol { M2FA_PROTOCOL_WEBMAIL, /* ... */ M2FA_PROTOCOL_OTHER }
/// }
/// ```
///
/// Generates a private `const ALL: [Self; N]` (every value, in row order),
/// `from_u32` (the value with this number; as visible as the getter) and the
/// getter itself.
macro_rules! c_enum_table {
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
pub(super) use c_enum_table;
