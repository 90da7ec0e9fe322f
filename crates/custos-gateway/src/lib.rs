//! The guarded-access gateway.
//!
//! Every request is answered the same way, in this order:
//!
//! 1. the principal is resolved from the bearer token (before any handler code);
//! 2. the input is parsed and normalised (bad input is rejected — and audited);
//! 3. the facts are gathered: officer, case, warrant, today's quota, approval, break-glass;
//! 4. the Cedar policy decides, with reason codes;
//! 5. if allowed, the records are read and minimised to the fields the policy lets the caller
//!    see;
//! 6. one audit entry — allowed, denied or rejected — is appended to the transparency log and
//!    made durable;
//! 7. only then does the response leave, with a receipt for the entry. If step 6 fails the
//!    request fails with 503 and no data leaves (fail-closed).
//!
//! Step 6 also feeds the live detection engine.

pub mod audit;
pub mod citizen;
pub mod http;
pub mod leaks;
pub mod marks;
pub mod oversight;
pub mod replica;
pub mod service;
pub mod ui;

pub use service::{Gateway, GatewayConfig, GatewayError};
