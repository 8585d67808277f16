//! Password hashing: argon2id with explicit parameters, run off the async
//! threads. Unknown users are checked against a dummy hash so that the
//! answer takes as long as for a wrong password.

use std::sync::OnceLock;

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use secrecy::{ExposeSecret, SecretString};

/// OWASP's recommended argon2id settings: 19 MiB, 2 iterations, 1 lane.
fn argon2() -> Argon2<'static> {
    #[allow(clippy::expect_used)] // constant, valid parameters
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("the hashing task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// Checks a new password against the rules people are told about.
pub fn validate_new(password: &SecretString) -> Result<(), String> {
    match domain::user::password_problem(password.expose_secret()) {
        Some(problem) => Err(problem),
        None => Ok(()),
    }
}

pub async fn hash(password: SecretString) -> Result<String, PasswordError> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        argon2()
            .hash_password(password.expose_secret().as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| PasswordError::Hash(e.to_string()))
    })
    .await?
}

/// A real hash of a password nobody has, made once, with the same
/// parameters as every stored hash: checking against it costs what
/// checking a real one costs. Should making it ever fail, logins fail too:
/// an empty stand-in would answer fast and tell which usernames exist.
fn dummy_hash() -> Result<&'static str, PasswordError> {
    static DUMMY: OnceLock<Option<String>> = OnceLock::new();
    DUMMY
        .get_or_init(|| {
            let salt = SaltString::generate(&mut OsRng);
            argon2().hash_password(b"not a real password, only spends time", &salt).map(|h| h.to_string()).ok()
        })
        .as_deref()
        .ok_or_else(|| PasswordError::Hash("could not make the dummy hash".into()))
}

/// True when `password` matches `stored`. With no stored hash (unknown user,
/// or an account without a password) a dummy hash is verified and the
/// answer is false, so both cases cost the same.
pub async fn verify(password: SecretString, stored: Option<String>) -> Result<bool, PasswordError> {
    tokio::task::spawn_blocking(move || {
        let real = stored.is_some();
        let stored = match stored {
            Some(s) => s,
            None => dummy_hash()?.to_string(),
        };
        let ok = PasswordHash::new(&stored)
            .map(|h| argon2().verify_password(password.expose_secret().as_bytes(), &h).is_ok())
            .unwrap_or(false);
        Ok(ok && real)
    })
    .await?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_and_verify() {
        let h = hash(SecretString::from("correct horse battery")).await.unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify(SecretString::from("correct horse battery"), Some(h.clone())).await.unwrap());
        assert!(!verify(SecretString::from("wrong"), Some(h)).await.unwrap());
    }

    #[tokio::test]
    async fn no_stored_hash_never_verifies() {
        assert!(!verify(SecretString::from(""), None).await.unwrap());
        assert!(!verify(SecretString::from("not a real password, only spends time"), None).await.unwrap());
    }

    #[test]
    fn the_dummy_hash_is_a_real_hash_with_the_same_cost() {
        let dummy = dummy_hash().unwrap();
        let real = argon2().hash_password(b"x", &SaltString::generate(&mut OsRng)).unwrap().to_string();
        let params = |h: &str| h.split('$').nth(3).map(str::to_owned);
        assert_eq!(params(dummy), params(&real), "{dummy}");
        assert!(PasswordHash::new(dummy).is_ok());
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(validate_new(&SecretString::from("short")).is_err());
        assert!(validate_new(&SecretString::from("long enough pass")).is_ok());
    }
}
