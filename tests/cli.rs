//! The `mail2fa` operator tool, run as a program.
