//! Reading a served log over HTTP for `custos audit verify --url`.

use anyhow::Context as _;
use custos_tlog::tile::Tile;
use custos_tlog::verify::TileFetcher;

/// Fetches the checkpoint, tiles and entry bundles from a tlog-tiles prefix.
pub struct HttpTiles {
    prefix: String,
    token: Option<String>,
    agent: ureq::Agent,
}

impl HttpTiles {
    /// A fetcher for `prefix`; over https, checked against the public web roots, or against
    /// `ca_pem` alone (PEM text of a private authority) when given, presenting the client
    /// certificate and key in `client` (PEM files; with `ca_pem` only) when given.
    pub fn new(
        prefix: &str,
        token: Option<String>,
        ca_pem: Option<&str>,
        client: Option<(&std::path::Path, &std::path::Path)>,
    ) -> anyhow::Result<Self> {
        let mut b = ureq::AgentBuilder::new().timeout(std::time::Duration::from_secs(30));
        match (ca_pem, client) {
            (Some(pem), None) => {
                let cfg = custos_server::tls::client_trusting(pem)
                    .map_err(|e| anyhow::anyhow!("--ca: the certificate authority {e}"))?;
                b = b.tls_config(cfg);
            }
            (Some(pem), Some((cert, key))) => {
                let cfg = custos_server::tls::client_with_certificate(pem, cert, key)
                    .map_err(|e| anyhow::anyhow!("--ca, --client-cert, --client-key: {e}"))?;
                b = b.tls_config(cfg);
            }
            (None, Some(_)) => {
                anyhow::bail!("--client-cert needs --ca, the authority of the server's certificate")
            }
            (None, None) => {}
        }
        Ok(Self { prefix: prefix.trim_end_matches('/').to_string(), token, agent: b.build() })
    }

    fn get(&self, path: &str) -> Result<Vec<u8>, String> {
        let mut req = self.agent.get(&format!("{}/{path}", self.prefix));
        if let Some(t) = &self.token {
            req = req.set("Authorization", &format!("Bearer {t}"));
        }
        let resp = req.call().map_err(|e| match e {
            ureq::Error::Status(code, r) => {
                format!("HTTP {code}: {}", r.into_string().unwrap_or_default().trim())
            }
            e => e.to_string(),
        })?;
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut resp.into_reader().take_limit(64 << 20), &mut buf)
            .map_err(|e| e.to_string())?;
        Ok(buf)
    }

    pub fn checkpoint(&self) -> anyhow::Result<String> {
        let b = self.get("checkpoint").map_err(anyhow::Error::msg).context("fetching the checkpoint")?;
        String::from_utf8(b).context("the checkpoint is not UTF-8")
    }
}

trait TakeLimit: std::io::Read + Sized {
    fn take_limit(self, n: u64) -> std::io::Take<Self> {
        self.take(n)
    }
}
impl<R: std::io::Read> TakeLimit for R {}

impl TileFetcher for HttpTiles {
    fn fetch(&mut self, tile: &Tile) -> Result<Vec<u8>, String> {
        self.get(&tile.path())
    }
}
