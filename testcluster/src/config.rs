//! Generation of corosync.conf.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use crate::error::{HarnessError, Result};

/// An ordered list of `key: value` lines in which setting an existing key replaces its value.
#[derive(Debug, Clone, Default)]
pub(crate) struct Section {
    entries: Vec<(String, String)>,
}

impl Section {
    pub(crate) fn set(&mut self, key: &str, value: &str) {
        match self.entries.iter_mut().find(|(k, _)| k == key) {
            Some(entry) => entry.1 = value.to_string(),
            None => self.entries.push((key.to_string(), value.to_string())),
        }
    }

    pub(crate) fn remove(&mut self, key: &str) {
        self.entries.retain(|(k, _)| k != key);
    }

    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Renders the section as a subsection of another (indented, closed).
    fn render_nested(&self, name: &str, out: &mut String) {
        out.push_str("    ");
        out.push_str(name);
        out.push_str(" {\n");
        for (key, value) in &self.entries {
            out.push_str(&format!("        {key}: {value}\n"));
        }
        out.push_str("    }\n");
    }

    fn render(&self, name: &str, out: &mut String) {
        out.push_str(name);
        out.push_str(" {\n");
        for (key, value) in &self.entries {
            out.push_str("    ");
            out.push_str(key);
            out.push_str(": ");
            out.push_str(value);
            out.push('\n');
        }
    }
}

/// Everything that goes into the corosync.conf of a cluster (identical on every node).
#[derive(Debug, Clone)]
pub(crate) struct ConfigSpec {
    pub(crate) totem: Section,
    /// The `interface` subsection of `totem` for link 0 (knet's link options).
    pub(crate) interface: Section,
    pub(crate) logging: Section,
    pub(crate) quorum: Section,
    /// Further named sections (e.g. `uidgid`), rendered after the nodelist in this order.
    pub(crate) sections: Vec<(String, Section)>,
    /// Raw text appended at the end of the file.
    pub(crate) extra: String,
}

impl ConfigSpec {
    pub(crate) fn new(cluster_name: &str) -> Self {
        let mut totem = Section::default();
        totem.set("version", "2");
        totem.set("cluster_name", cluster_name);
        totem.set("transport", "knet");
        totem.set("crypto_cipher", "none");
        totem.set("crypto_hash", "none");
        totem.set("token", "1000");
        let mut interface = Section::default();
        interface.set("linknumber", "0");
        let mut logging = Section::default();
        logging.set("to_stderr", "yes");
        logging.set("to_logfile", "no");
        logging.set("to_syslog", "no");
        logging.set("timestamp", "hires");
        logging.set("debug", "off");
        let mut quorum = Section::default();
        quorum.set("provider", "corosync_votequorum");
        ConfigSpec {
            totem,
            interface,
            logging,
            quorum,
            sections: Vec::new(),
            extra: String::new(),
        }
    }

    /// The interface subsection with knet's ping interval and timeout filled in where the
    /// caller set neither. knet marks a link up after `knet_pong_count` (2) answered pings,
    /// and by default pings every token/4 ms: with token 1000 the links of a new cluster came
    /// up 1.3 s after the daemons configured them, most of the time from nothing to quorate.
    /// Pinging every 100 ms (at most a quarter of the timeout) brings them up within about
    /// 0.2 s. The timeout that declares a link dead stays corosync's default: half the token
    /// timeout as the daemon computes it, which grows by `token_coefficient` (650 ms) for each
    /// node beyond two. With a fixed token/2 (500 ms), the links of a 32-node cluster on a
    /// two-core CI machine went down and up for three minutes and it never formed.
    fn interface_with_pings(&self, node_count: usize) -> Section {
        let mut interface = self.interface.clone();
        if interface.get("knet_ping_interval").is_none()
            && interface.get("knet_ping_timeout").is_none()
        {
            let timeout = (self.effective_token(node_count) / 2).max(4);
            interface.set("knet_ping_timeout", &timeout.to_string());
            interface.set(
                "knet_ping_interval",
                &(timeout / 4).clamp(1, 100).to_string(),
            );
        }
        interface
    }

    /// The token timeout in ms that corosync uses for a cluster of `node_count` nodes:
    /// `token` plus `token_coefficient` (default 650) for each node beyond two (totemconfig.c).
    fn effective_token(&self, node_count: usize) -> u64 {
        let number = |key: &str, default: u64| {
            self.totem
                .get(key)
                .and_then(|t| t.trim().parse().ok())
                .unwrap_or(default)
        };
        let beyond_two = node_count.saturating_sub(2) as u64;
        number("token", 1000) + beyond_two * number("token_coefficient", 650)
    }

    /// The text of corosync.conf for a cluster whose nodes are `nodes` (id, name, ring0 address).
    pub(crate) fn render(&self, nodes: &[(u32, String, IpAddr)]) -> String {
        let mut out =
            String::from("# Generated by corosync-testcluster (the cluster test harness).\n");
        self.totem.render("totem", &mut out);
        self.interface_with_pings(nodes.len())
            .render_nested("interface", &mut out);
        out.push_str("}\n\n");
        self.logging.render("logging", &mut out);
        out.push_str("}\n\n");
        self.quorum.render("quorum", &mut out);
        out.push_str("}\n\nnodelist {\n");
        for (id, name, addr) in nodes {
            out.push_str(&format!(
                "    node {{\n        name: {name}\n        nodeid: {id}\n        ring0_addr: {addr}\n    }}\n"
            ));
        }
        out.push_str("}\n");
        for (name, section) in &self.sections {
            out.push('\n');
            section.render(name, &mut out);
            out.push_str("}\n");
        }
        if !self.extra.is_empty() {
            out.push('\n');
            out.push_str(&self.extra);
            if !self.extra.ends_with('\n') {
                out.push('\n');
            }
        }
        out
    }
}

/// Environment variable that chooses the default [`Crypto`] of every cluster: `on`
/// (aes256/sha256 with a key the harness makes), `off` (`crypto_cipher: none`) or `auto` (the
/// default: on exactly when the daemon refuses to run unencrypted, as upstream corosync main
/// built with `enforce_encryption` does). [`ClusterBuilder::crypto`](crate::ClusterBuilder::crypto)
/// overrides it for one cluster.
pub const CRYPTO_ENV: &str = "COROSYNC_TESTCLUSTER_CRYPTO";

/// Where the key of an encrypted cluster comes from.
///
/// ```
/// use corosync_testcluster::{Crypto, KeySource};
/// let crypto = Crypto::aes256_sha256().key(KeySource::Keygen);
/// assert_eq!(crypto.key_source(), Some(&KeySource::Keygen));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// 256 random bytes from the operating system, written by the harness (no tool needed;
    /// the default).
    Random,
    /// A key made by `corosync-keygen -k FILE`, as an administrator would make it.
    Keygen,
    /// An existing key file, copied into the cluster's directory.
    File(PathBuf),
}

/// The encryption of the cluster's network traffic (`crypto_cipher`, `crypto_hash` and
/// `keyfile` in the totem section).
///
/// Upstream corosync main refuses `crypto_cipher: none` unless built with
/// `--enable-unencrypted`; Debian 12's 3.1.7 accepts both. By default a cluster follows
/// [`CRYPTO_ENV`] (`auto` unless set: encrypted exactly when the daemon requires it).
///
/// ```
/// use corosync_testcluster::Crypto;
/// assert_eq!(Crypto::off().cipher(), None);
/// let c = Crypto::new("aes128", "sha1");
/// assert_eq!(c.cipher(), Some("aes128"));
/// assert_eq!(c.hash(), Some("sha1"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crypto {
    /// `None`: unencrypted.
    settings: Option<(String, String, KeySource)>,
}

impl Crypto {
    /// No encryption: `crypto_cipher: none`, `crypto_hash: none`.
    ///
    /// ```
    /// assert!(!corosync_testcluster::Crypto::off().is_on());
    /// ```
    pub fn off() -> Crypto {
        Crypto { settings: None }
    }

    /// `crypto_cipher: aes256`, `crypto_hash: sha256`, with a random key made by the harness.
    ///
    /// ```
    /// assert!(corosync_testcluster::Crypto::aes256_sha256().is_on());
    /// ```
    pub fn aes256_sha256() -> Crypto {
        Crypto::new("aes256", "sha256")
    }

    /// Any cipher and hash that corosync's knet transport knows (e.g. `aes128`/`sha1`), with
    /// a random key made by the harness.
    ///
    /// ```
    /// let c = corosync_testcluster::Crypto::new("aes192", "sha512");
    /// assert_eq!(c.hash(), Some("sha512"));
    /// ```
    pub fn new(cipher: &str, hash: &str) -> Crypto {
        Crypto {
            settings: Some((cipher.to_string(), hash.to_string(), KeySource::Random)),
        }
    }

    /// Replaces where the key comes from (no effect on [`Crypto::off`]).
    ///
    /// ```
    /// use corosync_testcluster::{Crypto, KeySource};
    /// let c = Crypto::aes256_sha256().key(KeySource::File("/etc/corosync/authkey".into()));
    /// assert!(matches!(c.key_source(), Some(KeySource::File(_))));
    /// ```
    pub fn key(mut self, source: KeySource) -> Crypto {
        if let Some(settings) = self.settings.as_mut() {
            settings.2 = source;
        }
        self
    }

    /// Whether traffic is encrypted.
    ///
    /// ```
    /// assert!(corosync_testcluster::Crypto::new("aes256", "sha384").is_on());
    /// ```
    pub fn is_on(&self) -> bool {
        self.settings.is_some()
    }

    /// The cipher, `None` when off.
    ///
    /// ```
    /// assert_eq!(corosync_testcluster::Crypto::aes256_sha256().cipher(), Some("aes256"));
    /// ```
    pub fn cipher(&self) -> Option<&str> {
        self.settings.as_ref().map(|s| s.0.as_str())
    }

    /// The hash, `None` when off.
    ///
    /// ```
    /// assert_eq!(corosync_testcluster::Crypto::aes256_sha256().hash(), Some("sha256"));
    /// ```
    pub fn hash(&self) -> Option<&str> {
        self.settings.as_ref().map(|s| s.1.as_str())
    }

    /// Where the key comes from, `None` when off.
    ///
    /// ```
    /// use corosync_testcluster::{Crypto, KeySource};
    /// assert_eq!(Crypto::aes256_sha256().key_source(), Some(&KeySource::Random));
    /// ```
    pub fn key_source(&self) -> Option<&KeySource> {
        self.settings.as_ref().map(|s| &s.2)
    }
}

/// What [`CRYPTO_ENV`] asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CryptoMode {
    On,
    Off,
    Auto,
}

impl CryptoMode {
    pub(crate) fn from_env() -> Result<CryptoMode> {
        match std::env::var(CRYPTO_ENV) {
            Err(_) => Ok(CryptoMode::Auto),
            Ok(v) => CryptoMode::parse(&v),
        }
    }

    pub(crate) fn parse(text: &str) -> Result<CryptoMode> {
        match text.trim().to_ascii_lowercase().as_str() {
            "on" | "1" | "yes" => Ok(CryptoMode::On),
            "off" | "0" | "no" => Ok(CryptoMode::Off),
            "auto" | "" => Ok(CryptoMode::Auto),
            other => Err(HarnessError::new(format!(
                "{CRYPTO_ENV}={other:?}: expected on, off or auto"
            ))),
        }
    }
}

/// Minimum and written length of a harness-made key (knet wants 1024 to 32768 bits).
pub(crate) const KEY_BYTES: usize = 256;

/// Writes the cluster's key to `path` (mode 0400) from `source`.
pub(crate) fn write_key(source: &KeySource, path: &Path, keygen: Option<&Path>) -> Result<()> {
    use std::io::Read;
    use std::os::unix::fs::PermissionsExt;
    match source {
        KeySource::Random => {
            let mut key = vec![0u8; KEY_BYTES];
            std::fs::File::open("/dev/urandom")
                .and_then(|mut f| f.read_exact(&mut key))
                .map_err(|e| HarnessError::new(format!("cannot read /dev/urandom: {e}")))?;
            std::fs::write(path, &key)
                .map_err(|e| HarnessError::new(format!("cannot write {}: {e}", path.display())))?;
        }
        KeySource::Keygen => {
            let keygen = keygen.ok_or_else(|| {
                HarnessError::new(format!(
                    "KeySource::Keygen needs corosync-keygen, which was not found in the tool \
                     directory, PATH or the sbin directories: `{}`",
                    crate::env::INSTALL_HINT
                ))
            })?;
            crate::env::run(std::process::Command::new(keygen).arg("-k").arg(path))?;
        }
        KeySource::File(from) => {
            std::fs::copy(from, path).map_err(|e| {
                HarnessError::new(format!(
                    "cannot copy the key {} to {}: {e}",
                    from.display(),
                    path.display()
                ))
            })?;
        }
    }
    let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    if len < 128 {
        return Err(HarnessError::new(format!(
            "the key {} has {len} bytes; corosync needs at least 128",
            path.display()
        )));
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o400))
        .map_err(|e| HarnessError::new(format!("cannot chmod {}: {e}", path.display())))
}

#[cfg(test)]
mod unit {
    use super::{ConfigSpec, CryptoMode};

    #[test]
    fn crypto_env_values() {
        assert_eq!(CryptoMode::parse("on").unwrap(), CryptoMode::On);
        assert_eq!(CryptoMode::parse("OFF").unwrap(), CryptoMode::Off);
        assert_eq!(CryptoMode::parse("auto").unwrap(), CryptoMode::Auto);
        let e = CryptoMode::parse("maybe").unwrap_err();
        assert!(e.message().contains("COROSYNC_TESTCLUSTER_CRYPTO"), "{e}");
    }

    #[test]
    fn renders_and_overrides() {
        let mut spec = ConfigSpec::new("demo");
        spec.totem.set("token", "3000");
        spec.quorum.set("two_node", "1");
        let mut uidgid = super::Section::default();
        uidgid.set("uid", "1000");
        spec.sections.push(("uidgid".into(), uidgid));
        let text = spec.render(&[
            (1, "node1".into(), "10.1.0.1".parse().unwrap()),
            (2, "node2".into(), "10.1.0.2".parse().unwrap()),
        ]);
        assert!(text.contains("    token: 3000\n"));
        // knet pings every 100 ms, dead after token/2, inside totem.
        assert!(
            text.contains(
                "    interface {\n        linknumber: 0\n        knet_ping_timeout: 1500\n        \
                 knet_ping_interval: 100\n    }\n}\n"
            ),
            "{text}"
        );
        assert!(!text.contains("token: 1000"));
        assert!(text.contains("    two_node: 1\n"));
        assert!(text.contains("cluster_name: demo"));
        assert!(text.contains("nodeid: 2\n        ring0_addr: 10.1.0.2"));
        assert!(text.contains("    provider: corosync_votequorum\n"));
        assert!(
            text.ends_with("}\n\nuidgid {\n    uid: 1000\n}\n"),
            "{text}"
        );
    }

    #[test]
    fn link_timeout_follows_the_token_timeout_corosync_computes() {
        let pings = |spec: &ConfigSpec, nodes: usize| {
            let interface = spec.interface_with_pings(nodes);
            (
                interface.get("knet_ping_timeout").unwrap().to_string(),
                interface.get("knet_ping_interval").unwrap().to_string(),
            )
        };
        let mut spec = ConfigSpec::new("demo");
        assert_eq!(pings(&spec, 1), ("500".into(), "100".into()));
        assert_eq!(pings(&spec, 2), ("500".into(), "100".into()));
        // 1000 + 30 * 650 ms for 32 nodes.
        assert_eq!(pings(&spec, 32), ("10250".into(), "100".into()));
        spec.totem.set("token_coefficient", "0");
        assert_eq!(pings(&spec, 32), ("500".into(), "100".into()));
        spec.totem.set("token", "200");
        assert_eq!(pings(&spec, 3), ("100".into(), "25".into()));
        // A caller's own setting is kept, and nothing is added beside it.
        spec.interface.set("knet_ping_timeout", "4000");
        let interface = spec.interface_with_pings(32);
        assert_eq!(interface.get("knet_ping_timeout"), Some("4000"));
        assert_eq!(interface.get("knet_ping_interval"), None);
    }

    #[test]
    fn renders_a_quorum_section_without_provider() {
        let mut spec = ConfigSpec::new("demo");
        spec.quorum.remove("provider");
        assert_eq!(spec.quorum.get("provider"), None);
        let text = spec.render(&[(1, "node1".into(), "127.0.0.1".parse().unwrap())]);
        assert!(text.contains("quorum {\n}\n"), "{text}");
        assert!(!text.contains("provider"), "{text}");
    }
}
