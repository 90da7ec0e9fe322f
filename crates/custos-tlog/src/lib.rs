//! The trust core of Custos: an append-only Merkle transparency log.
//!
//! This crate does no I/O. It implements, from the specifications:
//!
//! - [`merkle`]: RFC 6962 / RFC 9162 §2.1 tree hashing, inclusion and consistency proofs
//!   (generation over any [`merkle::HashReader`] and verification), and the compact
//!   [`merkle::Frontier`] used to append.
//! - [`tile`]: the C2SP `tlog-tiles` coordinates and URL paths.
//! - [`note`]: C2SP `signed-note` with Ed25519 (keys, signing, verification) and
//!   `tlog-cosignature` v1 (timestamped Ed25519 cosignatures).
//! - [`checkpoint`]: C2SP `tlog-checkpoint` bodies.
//! - [`witness`]: the C2SP `tlog-witness` `add-checkpoint` decision, as a pure function of the
//!   witness's state and the request body.
//! - [`verify`]: a streaming verifier that recomputes a whole log from its entry bundles and
//!   tiles and names the first index or tile that disagrees.
//!
//! Storage, durability and HTTP live in other crates (`custos-logstore`, `custos-server`).

pub mod checkpoint;
pub mod fuzzing;
pub mod merkle;
pub mod note;
pub mod tile;
pub mod verify;
pub mod witness;

pub use merkle::Hash;
