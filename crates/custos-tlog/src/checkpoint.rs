//! C2SP `tlog-checkpoint` note bodies: origin, tree size, root hash, optional extension lines.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;

use crate::merkle::Hash;

/// Errors from parsing a checkpoint body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointError {
    /// The body does not have the required lines, or a line is malformed.
    #[error("malformed checkpoint: {0}")]
    Malformed(String),
}

/// A checkpoint: the signed statement of a log's size and root hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's origin line (identifies the log).
    pub origin: String,
    /// Number of entries.
    pub size: u64,
    /// Root hash of the tree of `size` entries.
    pub root: Hash,
    /// Extension lines, without their newlines.
    pub extensions: Vec<String>,
}

/// Parse a decimal with no sign and no leading zeros (except `0` itself).
pub fn parse_decimal(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 20 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if s.len() > 1 && s.starts_with('0') {
        return None;
    }
    s.parse().ok()
}

/// Decode a standard-base64 SHA-256 hash.
pub fn parse_hash(s: &str) -> Option<Hash> {
    let raw = B64.decode(s).ok()?;
    raw.try_into().ok()
}

/// Encode a hash as standard base64.
pub fn encode_hash(h: &Hash) -> String {
    B64.encode(h)
}

impl Checkpoint {
    /// Parse a checkpoint body (the note text, ending with a newline).
    pub fn parse(text: &str) -> Result<Self, CheckpointError> {
        let bad = |m: &str| CheckpointError::Malformed(m.to_string());
        let body = text.strip_suffix('\n').ok_or_else(|| bad("body must end in a newline"))?;
        let mut lines = body.split('\n');
        let origin = lines.next().filter(|l| !l.is_empty()).ok_or_else(|| bad("empty origin line"))?;
        let size_line = lines.next().ok_or_else(|| bad("missing size line"))?;
        let size = parse_decimal(size_line)
            .ok_or_else(|| CheckpointError::Malformed(format!("bad tree size `{size_line}`")))?;
        let root_line = lines.next().ok_or_else(|| bad("missing root hash line"))?;
        let root = parse_hash(root_line)
            .ok_or_else(|| CheckpointError::Malformed(format!("bad root hash `{root_line}`")))?;
        let mut extensions = Vec::new();
        for l in lines {
            if l.is_empty() {
                return Err(bad("empty extension line"));
            }
            extensions.push(l.to_string());
        }
        Ok(Self { origin: origin.to_string(), size, root, extensions })
    }

    /// The note text of this checkpoint.
    pub fn to_text(&self) -> String {
        let mut s = format!("{}\n{}\n{}\n", self.origin, self.size, encode_hash(&self.root));
        for e in &self.extensions {
            s.push_str(e);
            s.push('\n');
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_rejects() {
        let c = Checkpoint {
            origin: "custos.example/audit".into(),
            size: 12,
            root: [3u8; 32],
            extensions: vec!["time 5".into()],
        };
        assert_eq!(Checkpoint::parse(&c.to_text()).unwrap(), c);
        for bad in [
            "",
            "o\n",
            "o\n01\nAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwM=\n",
            "o\n-1\nAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwM=\n",
            "o\n1\nAAAA\n",
            "\n1\nAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwM=\n",
            "o\n1\nAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwM=\n\n",
        ] {
            assert!(Checkpoint::parse(bad).is_err(), "accepted {bad:?}");
        }
    }
}
