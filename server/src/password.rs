//! Password hashing: argon2id with explicit parameters, run off the async
//! threads. Unknown users are checked against a dummy hash so that the
//! answer takes as long as for a wrong password.

use std::sync::OnceLock;

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
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
    /// Every hashing slot stayed taken for [`QUEUE_WAIT`]: answered 429.
    #[error("every password check slot is busy")]
    Busy,
}

/// How long a check waits for a slot before the answer is "busy".
pub const QUEUE_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Each argon2 run holds 19 MiB and a core for ~20 ms: as many at once as
/// there are cores, process-wide, so a burst queues (briefly) instead of
/// asking for gigabytes on tokio's 512 blocking threads.
fn slots() -> &'static tokio::sync::Semaphore {
    static SLOTS: OnceLock<tokio::sync::Semaphore> = OnceLock::new();
    SLOTS.get_or_init(|| tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get())))
}

/// The working memory of the slots, kept between checks. Allocating
/// 19 MiB per check let glibc's growing mmap threshold keep every freed
/// block in its arenas: a burst of thirty checks left the process at
/// 500 MiB (see the benchmark notes); reused, it stays at one per slot.
fn memory_pool() -> &'static std::sync::Mutex<Vec<Vec<Block>>> {
    static POOL: OnceLock<std::sync::Mutex<Vec<Vec<Block>>>> = OnceLock::new();
    POOL.get_or_init(Default::default)
}

/// Runs one argon2 computation in a slot, off the async threads, with that
/// slot's working memory.
async fn in_slot<T: Send + 'static>(work: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static) -> Result<T, PasswordError> {
    let permit = tokio::time::timeout(QUEUE_WAIT, slots().acquire()).await.map_err(|_| PasswordError::Busy)?.map_err(|_| PasswordError::Busy)?;
    let mut memory = memory_pool().lock().unwrap_or_else(|e| e.into_inner()).pop().unwrap_or_default();
    let (out, memory) = tokio::task::spawn_blocking(move || {
        let out = work(&mut memory);
        (out, memory)
    })
    .await?;
    memory_pool().lock().unwrap_or_else(|e| e.into_inner()).push(memory);
    drop(permit);
    Ok(out)
}

/// `verify_password` of the argon2 crate, computed in `memory` (grown to
/// the hash's own cost when needed) instead of a fresh allocation; the
/// comparison is constant-time.
fn verify_in(memory: &mut Vec<Block>, password: &[u8], hash: &PasswordHash<'_>) -> bool {
    let (Some(salt), Some(expected)) = (&hash.salt, &hash.hash) else {
        return false;
    };
    let (Ok(algorithm), Ok(params)) = (Algorithm::try_from(hash.algorithm), Params::try_from(hash)) else {
        return false;
    };
    let Ok(version) = hash.version.map(Version::try_from).transpose() else {
        return false;
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let blocks = params.block_count();
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    let mut computed = vec![0u8; expected.len()];
    let argon2 = Argon2::new(algorithm, version.unwrap_or_default(), params);
    argon2.hash_password_into_with_memory(password, salt, &mut computed, &mut memory[..blocks]).is_ok()
        && bool::from(subtle::ConstantTimeEq::ct_eq(computed.as_slice(), expected.as_bytes()))
}

/// Checks a new password against the rules people are told about.
pub fn validate_new(password: &SecretString) -> Result<(), String> {
    match domain::user::password_problem(password.expose_secret()) {
        Some(problem) => Err(problem),
        None => Ok(()),
    }
}

pub async fn hash(password: SecretString) -> Result<String, PasswordError> {
    in_slot(move |_| {
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
    in_slot(move |memory| {
        let real = stored.is_some();
        let stored = match stored {
            Some(s) => s,
            None => dummy_hash()?.to_string(),
        };
        let ok = PasswordHash::new(&stored)
            .map(|h| verify_in(memory, password.expose_secret().as_bytes(), &h))
            .unwrap_or(false);
        Ok(ok && real)
    })
    .await?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn no_more_checks_run_at_once_than_there_are_slots() {
        let slots = std::thread::available_parallelism().map_or(2, |n| n.get());
        let running = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let most = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..slots * 4 {
            let (running, most) = (running.clone(), most.clone());
            set.spawn(in_slot(move |_| {
                let now = running.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                most.fetch_max(now, std::sync::atomic::Ordering::SeqCst);
                // Long enough for every other task to try for a slot meanwhile.
                let _ = argon2().hash_password(b"x", &SaltString::generate(&mut OsRng));
                running.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
            }));
        }
        while let Some(done) = set.join_next().await {
            done.unwrap().unwrap();
        }
        let most = most.load(std::sync::atomic::Ordering::SeqCst);
        assert!(most >= 1 && most <= slots, "{most} checks ran at once with {slots} slots");
    }

    #[tokio::test]
    async fn hashes_are_argon2id_and_verify() {
        let h = hash(SecretString::from("correct horse battery")).await.unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify(SecretString::from("correct horse battery"), Some(h.clone())).await.unwrap());
        assert!(!verify(SecretString::from("wrong"), Some(h)).await.unwrap());
    }

    #[tokio::test]
    async fn a_hash_made_with_other_costs_still_verifies_and_a_tampered_one_does_not() {
        let cheap = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(64, 1, 1, None).unwrap());
        let h = cheap.hash_password(b"old account", &SaltString::generate(&mut OsRng)).unwrap().to_string();
        assert!(verify(SecretString::from("old account"), Some(h.clone())).await.unwrap());
        assert!(!verify(SecretString::from("old accounT"), Some(h.clone())).await.unwrap());
        // A character inside the hash's output (not its last, whose low bits are padding).
        let at = h.len() - 10;
        let other = if &h[at..=at] == "A" { "B" } else { "A" };
        let tampered = format!("{}{other}{}", &h[..at], &h[at + 1..]);
        assert!(!verify(SecretString::from("old account"), Some(tampered)).await.unwrap());
        assert!(!verify(SecretString::from("x"), Some("$argon2id$garbage".into())).await.unwrap());
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
