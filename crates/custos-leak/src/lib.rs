//! Leak tracing: find citizens' data in a Telegram channel export and name the officer accounts
//! that pulled it before it was posted.
//!
//! - [`telegram`]: Telegram Desktop exports (JSON with its `\xHH` quirk, HTML pages, plain text),
//!   streamed one message at a time.
//! - [`extract`]: national ID numbers and Bangladeshi mobile numbers in every written form.
//! - [`attribution`]: the guilt model (Papadimitriou & Garcia-Molina) and coalition search.
//!
//! Pure: callers open files and the access log.

pub mod attribution;
pub mod extract;
pub mod fuzzing;
pub mod telegram;
