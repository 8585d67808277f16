//! Secrets at rest. PeeringDB refresh tokens are stored sealed with
//! XChaCha20-Poly1305 (RustCrypto's `chacha20poly1305`) under a key from
//! `PEERPORTAL_SECRET_KEY_FILE`, never in clear.
//!
//! The file holds one key per line, `<id> <base64url of 32 bytes>`; the
//! last line seals, every line opens. A sealed value is
//! `v1.<key id>.<base64url(nonce ‖ ciphertext)>`, so `peerportal keys
//! rotate` (which appends a key and re-seals every value under it) can
//! tell what each value needs. Each value is bound to what it belongs to
//! (the additional data, e.g. `refresh:<user id>`): a value copied to
//! another row does not open.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use secrecy::{ExposeSecret, SecretString};

const VERSION: &str = "v1";
const NONCE_LEN: usize = 24;

#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("PEERPORTAL_SECRET_KEY_FILE: {path}: {problem}")]
    Invalid { path: String, problem: String },
}

fn invalid(path: &Path, problem: impl Into<String>) -> KeyFileError {
    KeyFileError::Invalid { path: path.display().to_string(), problem: problem.into() }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum OpenError {
    #[error("the sealed value is not in the v1 format")]
    Format,
    #[error("no key {0:?} in the key file")]
    UnknownKey(String),
    #[error("the sealed value does not open with its key (tampered, or moved to another row)")]
    Tampered,
}

/// The keys of `PEERPORTAL_SECRET_KEY_FILE`. No `Debug` that could print them.
pub struct Keyring {
    path: PathBuf,
    /// The key that seals.
    current: (String, XChaCha20Poly1305),
    /// Every key, oldest first (the current one last): any of them opens.
    keys: Vec<(String, XChaCha20Poly1305)>,
}

#[derive(Debug, thiserror::Error)]
#[error("a secret could not be sealed")]
pub struct SealError;

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<&str> = self.keys.iter().map(|(id, _)| id.as_str()).collect();
        f.debug_struct("Keyring").field("path", &self.path).field("key_ids", &ids).finish()
    }
}

fn new_key_line() -> String {
    let key = XChaCha20Poly1305::generate_key(&mut OsRng);
    let id: [u8; 4] = rand::random();
    let id: String = id.iter().map(|b| format!("{b:02x}")).collect();
    format!("{id} {}\n", URL_SAFE_NO_PAD.encode(key))
}

impl Keyring {
    /// Reads the key file, creating it (mode 0600, one new key) when it is
    /// missing. Two processes starting at once both end up reading the
    /// one file that won the race. A file others may read is refused.
    pub fn load_or_create(path: &Path) -> Result<Keyring, KeyFileError> {
        match std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path) {
            Ok(mut f) => {
                f.write_all(new_key_line().as_bytes()).and_then(|_| f.sync_all()).map_err(|e| invalid(path, e.to_string()))?;
                tracing::info!(path = %path.display(), "created a new secret key file");
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(invalid(path, format!("cannot create it: {e}"))),
        }
        Self::load(path)
    }

    fn load(path: &Path) -> Result<Keyring, KeyFileError> {
        let meta = std::fs::metadata(path).map_err(|e| invalid(path, e.to_string()))?;
        if meta.permissions().mode() & 0o077 != 0 {
            return Err(invalid(path, format!("is readable by others (mode {:o}); run chmod 600 on it", meta.permissions().mode() & 0o777)));
        }
        let text = std::fs::read_to_string(path).map_err(|e| invalid(path, e.to_string()))?;
        let mut keys = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = || invalid(path, format!("line {} is not \"<id> <base64url key>\"", n + 1));
            let (id, key) = line.split_once(' ').ok_or_else(bad)?;
            let bytes = URL_SAFE_NO_PAD.decode(key.trim()).map_err(|_| bad())?;
            let cipher = XChaCha20Poly1305::new_from_slice(&bytes).map_err(|_| invalid(path, format!("line {}: a key is 32 bytes", n + 1)))?;
            if id.is_empty() || id.contains('.') || keys.iter().any(|(k, _)| k == id) {
                return Err(invalid(path, format!("line {}: key ids must be unique, without dots", n + 1)));
            }
            keys.push((id.to_string(), cipher));
        }
        let current = keys.last().cloned().ok_or_else(|| invalid(path, "holds no key"))?;
        Ok(Keyring { path: path.to_path_buf(), current, keys })
    }

    /// Appends a new key to the file (it seals from now on; older keys
    /// still open) and returns the keyring as it now is.
    pub fn add_key(&self) -> Result<Keyring, KeyFileError> {
        let mut f = std::fs::OpenOptions::new().append(true).open(&self.path).map_err(|e| invalid(&self.path, e.to_string()))?;
        f.write_all(new_key_line().as_bytes()).and_then(|_| f.sync_all()).map_err(|e| invalid(&self.path, e.to_string()))?;
        Self::load(&self.path)
    }

    /// The id of the key that seals.
    pub fn current_id(&self) -> &str {
        &self.current.0
    }

    /// Seals `secret`, bound to `context`.
    pub fn seal(&self, secret: &SecretString, context: &str) -> Result<String, SealError> {
        let (id, cipher) = &self.current;
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = cipher.encrypt(&nonce, Payload { msg: secret.expose_secret().as_bytes(), aad: context.as_bytes() }).map_err(|_| SealError)?;
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        Ok(format!("{VERSION}.{id}.{}", URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// Opens a value sealed for `context`.
    pub fn open(&self, sealed: &str, context: &str) -> Result<SecretString, OpenError> {
        let mut parts = sealed.splitn(3, '.');
        let (Some(VERSION), Some(id), Some(body)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(OpenError::Format);
        };
        let (_, cipher) = self.keys.iter().find(|(k, _)| k == id).ok_or_else(|| OpenError::UnknownKey(id.to_string()))?;
        let bytes = URL_SAFE_NO_PAD.decode(body).map_err(|_| OpenError::Format)?;
        if bytes.len() <= NONCE_LEN {
            return Err(OpenError::Format);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let plain = cipher
            .decrypt(XNonce::from_slice(nonce), Payload { msg: ciphertext, aad: context.as_bytes() })
            .map_err(|_| OpenError::Tampered)?;
        String::from_utf8(plain).map(SecretString::from).map_err(|_| OpenError::Tampered)
    }

    /// The key id a sealed value names.
    pub fn key_of(sealed: &str) -> Option<&str> {
        sealed.strip_prefix("v1.").and_then(|rest| rest.split('.').next())
    }
}

/// The key file as a running server holds it. A value sealed under a key
/// it has not seen (`peerportal keys rotate` ran while it was up) makes it
/// read the file again once, so rotation needs no restart to keep opening.
/// New values are sealed with the newest key the server knows.
pub struct Keys {
    ring: std::sync::RwLock<std::sync::Arc<Keyring>>,
}

impl Keys {
    pub fn new(ring: Keyring) -> Keys {
        Keys { ring: std::sync::RwLock::new(std::sync::Arc::new(ring)) }
    }

    /// The keyring as it is now.
    pub fn ring(&self) -> std::sync::Arc<Keyring> {
        self.ring.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn seal(&self, secret: &SecretString, context: &str) -> Result<String, SealError> {
        self.ring().seal(secret, context)
    }

    pub fn open(&self, sealed: &str, context: &str) -> Result<SecretString, OpenError> {
        let ring = self.ring();
        match ring.open(sealed, context) {
            Err(OpenError::UnknownKey(id)) => match Keyring::load(&ring.path) {
                Ok(fresh) => {
                    let fresh = std::sync::Arc::new(fresh);
                    *self.ring.write().unwrap_or_else(|e| e.into_inner()) = fresh.clone();
                    fresh.open(sealed, context)
                }
                Err(e) => {
                    tracing::error!(error = %e, "could not read the key file again");
                    Err(OpenError::UnknownKey(id))
                }
            },
            other => other,
        }
    }
}

/// The additional data a user's refresh token is sealed with.
pub fn refresh_context(user_id: i64) -> String {
    format!("peeringdb-refresh:{user_id}")
}

/// The additional data a user's TOTP secret is sealed with.
pub fn totp_context(user_id: i64) -> String {
    format!("totp:{user_id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keyring() -> (tempfile::TempDir, Keyring) {
        let dir = tempfile::tempdir().unwrap();
        let keys = Keyring::load_or_create(&dir.path().join("secret.key")).unwrap();
        (dir, keys)
    }

    #[test]
    fn the_key_file_is_created_private_and_read_again_the_same() {
        let (dir, keys) = keyring();
        let path = dir.path().join("secret.key");
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        let sealed = keys.seal(&SecretString::from("refresh-me"), "ctx").unwrap();
        let again = Keyring::load_or_create(&path).unwrap();
        assert_eq!(again.open(&sealed, "ctx").unwrap().expose_secret(), "refresh-me");
    }

    #[test]
    fn a_key_file_others_can_read_is_refused_naming_the_setting() {
        let (dir, _) = keyring();
        let path = dir.path().join("secret.key");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = Keyring::load_or_create(&path).unwrap_err().to_string();
        assert!(e.starts_with("PEERPORTAL_SECRET_KEY_FILE: ") && e.contains("chmod 600"), "{e}");
    }

    #[test]
    fn sealed_values_hide_the_secret_and_open_only_in_their_context() {
        let (_dir, keys) = keyring();
        let sealed = keys.seal(&SecretString::from("refresh-me"), "peeringdb-refresh:7").unwrap();
        assert!(!sealed.contains("refresh-me"));
        assert_ne!(sealed, keys.seal(&SecretString::from("refresh-me"), "peeringdb-refresh:7").unwrap(), "a fresh nonce each time");
        assert_eq!(keys.open(&sealed, "peeringdb-refresh:8").err(), Some(OpenError::Tampered), "moved to another user's row");
        let mut flipped = sealed.clone().into_bytes();
        let last = flipped.len() - 2;
        flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
        assert_eq!(keys.open(std::str::from_utf8(&flipped).unwrap(), "peeringdb-refresh:7").err(), Some(OpenError::Tampered));
        assert_eq!(keys.open("refresh-me", "peeringdb-refresh:7").err(), Some(OpenError::Format));
    }

    #[test]
    fn after_a_new_key_old_values_still_open_and_new_ones_name_the_new_key() {
        let (_dir, keys) = keyring();
        let old = keys.seal(&SecretString::from("a"), "c").unwrap();
        let rotated = keys.add_key().unwrap();
        assert_ne!(rotated.current_id(), keys.current_id());
        let new = rotated.seal(&SecretString::from("b"), "c").unwrap();
        assert_eq!(Keyring::key_of(&old), Some(keys.current_id()));
        assert_eq!(Keyring::key_of(&new), Some(rotated.current_id()));
        assert_eq!(rotated.open(&old, "c").unwrap().expose_secret(), "a");
        assert_eq!(keys.open(&new, "c").err(), Some(OpenError::UnknownKey(rotated.current_id().to_string())));
    }
}
