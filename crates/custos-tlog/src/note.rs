//! C2SP `signed-note` with Ed25519 (type `0x01`) and `tlog-cosignature` v1 (type `0x04`).
//!
//! Text forms follow Go's `golang.org/x/mod/sumdb/note`:
//! - verifier key: `<name>+<8 hex key id>+base64(type ‖ public key)`;
//! - private key: `PRIVATE+KEY+<name>+<8 hex key id>+base64(type ‖ 32-byte seed)`.
//!
//! Key ID = first four bytes (big-endian) of `SHA-256(name ‖ 0x0A ‖ type ‖ public key)`.
//!
//! A note is a text ending in a newline, a blank line, then signature lines
//! `— <name> base64(key id ‖ signature)`. Verification ignores signatures from unknown keys,
//! rejects the whole note if a known key's signature fails, and requires at least one
//! verified signature.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ed25519_dalek::{Signer as _, SigningKey, Verifier as _, VerifyingKey};
use sha2::{Digest, Sha256};

/// Signature type byte of Ed25519 note signatures.
pub const ALG_ED25519: u8 = 0x01;
/// Signature type byte of timestamped Ed25519 cosignatures (tlog-cosignature v1).
pub const ALG_COSIGNATURE_V1: u8 = 0x04;
/// The most signature lines a note may carry before it is refused as malformed.
pub const MAX_SIGNATURES: usize = 100;
/// The largest note accepted, in bytes.
pub const MAX_NOTE_BYTES: usize = 1 << 20;

const EM_DASH_PREFIX: &str = "\u{2014} ";

/// Errors from key parsing, note parsing and verification.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NoteError {
    /// A key's text form could not be parsed.
    #[error("malformed key `{key}`: {reason}")]
    MalformedKey {
        /// The offending key text (private keys are never echoed).
        key: String,
        /// What was wrong.
        reason: &'static str,
    },
    /// A key name is empty or contains spaces or `+`.
    #[error("invalid key name `{0}`: names must be non-empty, without spaces or `+`")]
    InvalidName(String),
    /// The note text is not valid for signing.
    #[error("invalid note text: {0}")]
    InvalidText(&'static str),
    /// The note could not be parsed.
    #[error("malformed note: {0}")]
    Malformed(String),
    /// A signature from a known key did not verify.
    #[error("invalid signature by known key `{name}` ({key_id:08x})")]
    BadSignature {
        /// Key name.
        name: String,
        /// Key ID.
        key_id: u32,
    },
    /// No signature from a known key was present.
    #[error("note has no signature from a known key")]
    UnverifiedNote,
}

/// Compute a key ID: `SHA-256(name ‖ 0x0A ‖ alg ‖ public key)[:4]` as big-endian `u32`.
pub fn key_id(name: &str, alg: u8, public_key: &[u8]) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', alg]);
    h.update(public_key);
    let d = h.finalize();
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

fn check_name(name: &str) -> Result<(), NoteError> {
    if name.is_empty() || name.contains('+') || name.chars().any(char::is_whitespace) {
        return Err(NoteError::InvalidName(name.to_string()));
    }
    Ok(())
}

fn malformed_key(key: &str, reason: &'static str) -> NoteError {
    NoteError::MalformedKey { key: key.to_string(), reason }
}

fn parse_hex_id(s: &str) -> Option<u32> {
    if s.len() != 8 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(s, 16).ok()
}

/// A key that signs notes: the log's checkpoint key (type `0x01`) or a witness's cosigning
/// key (type `0x04`).
#[derive(Clone)]
pub struct Signer {
    name: String,
    alg: u8,
    key_id: u32,
    key: SigningKey,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("name", &self.name)
            .field("alg", &self.alg)
            .field("key_id", &format_args!("{:08x}", self.key_id))
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// A signer from a 32-byte Ed25519 seed.
    pub fn from_seed(name: &str, alg: u8, seed: [u8; 32]) -> Result<Self, NoteError> {
        check_name(name)?;
        if alg != ALG_ED25519 && alg != ALG_COSIGNATURE_V1 {
            return Err(NoteError::MalformedKey {
                key: name.to_string(),
                reason: "unsupported signature type",
            });
        }
        let key = SigningKey::from_bytes(&seed);
        let key_id = key_id(name, alg, key.verifying_key().as_bytes());
        Ok(Self { name: name.to_string(), alg, key_id, key })
    }

    /// Parse `PRIVATE+KEY+<name>+<id>+base64(alg ‖ seed)`.
    pub fn from_private_key_text(text: &str) -> Result<Self, NoteError> {
        let text = text.trim_end_matches(['\n', '\r']);
        let redacted = "PRIVATE+KEY+…";
        let parts: Vec<&str> = text.splitn(5, '+').collect();
        if parts.len() != 5 || parts[0] != "PRIVATE" || parts[1] != "KEY" {
            return Err(malformed_key(redacted, "expected PRIVATE+KEY+name+id+key"));
        }
        let name = parts[2];
        check_name(name)?;
        let id = parse_hex_id(parts[3]).ok_or_else(|| malformed_key(redacted, "bad key id"))?;
        let raw = B64.decode(parts[4]).map_err(|_| malformed_key(redacted, "key is not base64"))?;
        if raw.len() != 33 {
            return Err(malformed_key(redacted, "key must be 1 type byte and a 32-byte seed"));
        }
        let mut seed = [0u8; 32];
        seed.copy_from_slice(&raw[1..]);
        let signer = Self::from_seed(name, raw[0], seed)?;
        if signer.key_id != id {
            return Err(malformed_key(redacted, "key id does not match the key"));
        }
        Ok(signer)
    }

    /// The private key text form. Handle with care: it is the secret.
    pub fn private_key_text(&self) -> String {
        let mut raw = Vec::with_capacity(33);
        raw.push(self.alg);
        raw.extend_from_slice(self.key.as_bytes());
        format!("PRIVATE+KEY+{}+{:08x}+{}", self.name, self.key_id, B64.encode(raw))
    }

    /// Key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Key ID.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The matching verifier.
    pub fn verifier(&self) -> Verifier {
        Verifier {
            name: self.name.clone(),
            alg: self.alg,
            key_id: self.key_id,
            key: self.key.verifying_key(),
        }
    }

    /// Sign `text` and return one signature line (ending in a newline).
    ///
    /// For a cosigning key (`0x04`) `timestamp` is the POSIX time put in the cosignature; it
    /// is ignored for `0x01`.
    pub fn sign_line(&self, text: &str, timestamp: u64) -> Result<String, NoteError> {
        check_text(text)?;
        let mut sig = Vec::with_capacity(4 + 8 + 64);
        sig.extend_from_slice(&self.key_id.to_be_bytes());
        if self.alg == ALG_COSIGNATURE_V1 {
            let msg = cosigned_message(text, timestamp);
            sig.extend_from_slice(&timestamp.to_be_bytes());
            sig.extend_from_slice(&self.key.sign(msg.as_bytes()).to_bytes());
        } else {
            sig.extend_from_slice(&self.key.sign(text.as_bytes()).to_bytes());
        }
        Ok(format!("{EM_DASH_PREFIX}{} {}\n", self.name, B64.encode(sig)))
    }

    /// Sign `text` into a complete signed note.
    pub fn sign(&self, text: &str) -> Result<String, NoteError> {
        let line = self.sign_line(text, 0)?;
        Ok(format!("{text}\n{line}"))
    }
}

fn cosigned_message(text: &str, timestamp: u64) -> String {
    format!("cosignature/v1\ntime {timestamp}\n{text}")
}

/// A public key that verifies note signatures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verifier {
    name: String,
    alg: u8,
    key_id: u32,
    key: VerifyingKey,
}

impl Verifier {
    /// Parse `<name>+<id>+base64(alg ‖ public key)`.
    pub fn from_text(text: &str) -> Result<Self, NoteError> {
        let text = text.trim();
        let parts: Vec<&str> = text.splitn(3, '+').collect();
        if parts.len() != 3 {
            return Err(malformed_key(text, "expected name+id+key"));
        }
        let name = parts[0];
        check_name(name)?;
        let id = parse_hex_id(parts[1]).ok_or_else(|| malformed_key(text, "bad key id"))?;
        let raw = B64.decode(parts[2]).map_err(|_| malformed_key(text, "key is not base64"))?;
        if raw.len() != 33 {
            return Err(malformed_key(text, "key must be 1 type byte and 32 bytes"));
        }
        let alg = raw[0];
        if alg != ALG_ED25519 && alg != ALG_COSIGNATURE_V1 {
            return Err(malformed_key(text, "unsupported signature type"));
        }
        let mut pk = [0u8; 32];
        pk.copy_from_slice(&raw[1..]);
        let key = VerifyingKey::from_bytes(&pk)
            .map_err(|_| malformed_key(text, "not a valid Ed25519 public key"))?;
        if key_id(name, alg, &pk) != id {
            return Err(malformed_key(text, "key id does not match the key"));
        }
        Ok(Self { name: name.to_string(), alg, key_id: id, key })
    }

    /// The verifier key text.
    pub fn to_text(&self) -> String {
        let mut raw = Vec::with_capacity(33);
        raw.push(self.alg);
        raw.extend_from_slice(self.key.as_bytes());
        format!("{}+{:08x}+{}", self.name, self.key_id, B64.encode(raw))
    }

    /// Key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Key ID.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// Signature type byte.
    pub fn alg(&self) -> u8 {
        self.alg
    }

    /// Verify raw signature bytes (after the key ID) over `text`. Returns the cosignature
    /// timestamp for `0x04` keys, 0 otherwise.
    fn verify_raw(&self, text: &str, sig: &[u8]) -> Option<u64> {
        match self.alg {
            ALG_ED25519 => {
                let s = ed25519_dalek::Signature::from_slice(sig).ok()?;
                self.key.verify(text.as_bytes(), &s).ok().map(|()| 0)
            }
            ALG_COSIGNATURE_V1 => {
                if sig.len() != 72 {
                    return None;
                }
                let mut ts = [0u8; 8];
                ts.copy_from_slice(&sig[..8]);
                let ts = u64::from_be_bytes(ts);
                if ts > i64::MAX as u64 {
                    return None;
                }
                let s = ed25519_dalek::Signature::from_slice(&sig[8..]).ok()?;
                let msg = cosigned_message(text, ts);
                self.key.verify(msg.as_bytes(), &s).ok().map(|()| ts)
            }
            _ => None,
        }
    }
}

/// One signature line of a note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    /// Key name.
    pub name: String,
    /// Key ID.
    pub key_id: u32,
    /// The signature bytes after the key ID.
    pub sig: Vec<u8>,
    /// The line exactly as it appeared, with its newline.
    pub line: String,
}

/// A parsed (not yet verified) note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// The text, including its final newline.
    pub text: String,
    /// Signature lines in order.
    pub signatures: Vec<NoteSignature>,
}

fn check_text(text: &str) -> Result<(), NoteError> {
    if !text.ends_with('\n') {
        return Err(NoteError::InvalidText("text must end in a newline"));
    }
    if text.chars().any(|c| c < ' ' && c != '\n') {
        return Err(NoteError::InvalidText("text contains control characters"));
    }
    Ok(())
}

/// Parse a signed note without verifying it.
pub fn parse(msg: &str) -> Result<Note, NoteError> {
    if msg.len() > MAX_NOTE_BYTES {
        return Err(NoteError::Malformed(format!("note is larger than {MAX_NOTE_BYTES} bytes")));
    }
    if msg.chars().any(|c| c < ' ' && c != '\n') {
        return Err(NoteError::Malformed("note contains control characters".into()));
    }
    let split = msg
        .rfind("\n\n")
        .ok_or_else(|| NoteError::Malformed("no blank line before the signatures".into()))?;
    let text = &msg[..=split];
    let sigs = &msg[split + 2..];
    if sigs.is_empty() || !sigs.ends_with('\n') {
        return Err(NoteError::Malformed("signature block must end in a newline".into()));
    }
    let mut signatures = Vec::new();
    for line in sigs.split_inclusive('\n') {
        if signatures.len() >= MAX_SIGNATURES {
            return Err(NoteError::Malformed(format!("more than {MAX_SIGNATURES} signatures")));
        }
        let body = line
            .strip_suffix('\n')
            .and_then(|l| l.strip_prefix(EM_DASH_PREFIX))
            .ok_or_else(|| NoteError::Malformed(format!("bad signature line `{}`", line.trim_end())))?;
        let (name, b64) = body
            .split_once(' ')
            .ok_or_else(|| NoteError::Malformed(format!("bad signature line `{}`", line.trim_end())))?;
        check_name(name).map_err(|_| NoteError::Malformed(format!("bad key name `{name}`")))?;
        let raw = B64
            .decode(b64)
            .map_err(|_| NoteError::Malformed(format!("signature by `{name}` is not base64")))?;
        if raw.len() < 5 {
            return Err(NoteError::Malformed(format!("signature by `{name}` is too short")));
        }
        signatures.push(NoteSignature {
            name: name.to_string(),
            key_id: u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]),
            sig: raw[4..].to_vec(),
            line: line.to_string(),
        });
    }
    Ok(Note { text: text.to_string(), signatures })
}

/// A signature that verified against a known key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedSignature {
    /// Key name.
    pub name: String,
    /// Key ID.
    pub key_id: u32,
    /// Cosignature timestamp (0 for plain Ed25519 signatures).
    pub timestamp: u64,
    /// The line as it appeared in the note.
    pub line: String,
}

/// Parse and verify a note against known keys.
///
/// Unknown keys are ignored; a known key whose signature fails rejects the note; at least
/// one known key must have signed. Duplicate signatures by one key are malformed.
pub fn open(msg: &str, known: &[Verifier]) -> Result<(Note, Vec<VerifiedSignature>), NoteError> {
    let note = parse(msg)?;
    let verified = verify_signatures(&note, known)?;
    if verified.is_empty() {
        return Err(NoteError::UnverifiedNote);
    }
    Ok((note, verified))
}

/// Verify the signatures of a parsed note by the known keys (possibly none verified).
pub fn verify_signatures(note: &Note, known: &[Verifier]) -> Result<Vec<VerifiedSignature>, NoteError> {
    let mut verified = Vec::new();
    let mut seen: Vec<(&str, u32)> = Vec::new();
    for s in &note.signatures {
        let Some(v) = known.iter().find(|v| v.name == s.name && v.key_id == s.key_id) else {
            continue;
        };
        if seen.contains(&(s.name.as_str(), s.key_id)) {
            return Err(NoteError::Malformed(format!("duplicate signature by `{}`", s.name)));
        }
        seen.push((&s.name, s.key_id));
        let ts = v
            .verify_raw(&note.text, &s.sig)
            .ok_or_else(|| NoteError::BadSignature { name: s.name.clone(), key_id: s.key_id })?;
        verified.push(VerifiedSignature {
            name: s.name.clone(),
            key_id: s.key_id,
            timestamp: ts,
            line: s.line.clone(),
        });
    }
    Ok(verified)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_and_open_round_trip() {
        let s = Signer::from_seed("example.com/log", ALG_ED25519, [7u8; 32]).unwrap();
        let v = Verifier::from_text(&s.verifier().to_text()).unwrap();
        let signed = s.sign("hello\nworld\n").unwrap();
        let (note, sigs) = open(&signed, std::slice::from_ref(&v)).unwrap();
        assert_eq!(note.text, "hello\nworld\n");
        assert_eq!(sigs.len(), 1);
        // Tampering with the text breaks the signature.
        let bad = signed.replacen("hello", "hellO", 1);
        assert!(matches!(open(&bad, &[v]), Err(NoteError::BadSignature { .. })));
        // Private key text round-trips.
        let s2 = Signer::from_private_key_text(&s.private_key_text()).unwrap();
        assert_eq!(s2.verifier(), s.verifier());
    }

    #[test]
    fn cosignature_round_trip() {
        let w = Signer::from_seed("witness.example/w1", ALG_COSIGNATURE_V1, [9u8; 32]).unwrap();
        let text = "example.com/log\n5\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n";
        let line = w.sign_line(text, 1_700_000_000).unwrap();
        let msg = format!("{text}\n{line}");
        let (_, sigs) = open(&msg, &[w.verifier()]).unwrap();
        assert_eq!(sigs[0].timestamp, 1_700_000_000);
        // A cosignature key does not verify as a plain log key of the same seed.
        let plain = Signer::from_seed("witness.example/w1", ALG_ED25519, [9u8; 32]).unwrap();
        assert!(open(&msg, &[plain.verifier()]).is_err());
    }

    #[test]
    fn malformed_notes_are_rejected() {
        for bad in [
            "",
            "no newline",
            "text\n\n",
            "text\n\n— name\n",
            "text\n\n— name !!!\n",
            "text\n\n— na+me AAAAAAA=\n",
            "text\n\n- name AAAAAAAA\n",
            "text\n\n— name AAAA\n",
            "te\u{1}xt\n\n— name AAAAAAAA\n",
        ] {
            assert!(parse(bad).is_err(), "accepted {bad:?}");
        }
    }

    #[test]
    fn unknown_keys_are_ignored_but_required_one() {
        let a = Signer::from_seed("a", ALG_ED25519, [1; 32]).unwrap();
        let b = Signer::from_seed("b", ALG_ED25519, [2; 32]).unwrap();
        let signed = a.sign("x\n").unwrap();
        assert_eq!(open(&signed, &[b.verifier()]), Err(NoteError::UnverifiedNote));
    }
}
