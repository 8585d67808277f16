//! PeeringDB's signing keys: `openidconnect`'s JSON Web Key, with the
//! RS256 signature checked by ring instead of the crate's `rsa`.
//!
//! Why: `rsa`'s arithmetic (num-bigint-dig) took ~370 µs per check on
//! the benchmark machine against ring's ~45 µs, a tenth of the portal's
//! CPU for a login's callback. Everything but the signature (which key,
//! issuer, audience, times, nonce) is still the crate's.
//!
//! ring also holds the key to RFC 7518 §3.3: a modulus under 2048 bits
//! is refused, where `rsa` would have accepted it.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use openidconnect::core::{CoreJsonWebKey, CoreJsonWebKeyType, CoreJsonWebKeyUse, CoreJwsSigningAlgorithm};
use openidconnect::{JsonWebKey, JsonWebKeyAlgorithm, JsonWebKeyId, JsonWebKeyUse, SignatureVerificationError};
use ring::signature::{RsaPublicKeyComponents, RSA_PKCS1_2048_8192_SHA256};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One key of PeeringDB's key set.
#[derive(Clone, Debug)]
pub struct SigningKey {
    jwk: CoreJsonWebKey,
    /// The modulus and exponent, big-endian without leading zeros, when
    /// the key is an RSA key whose `n` and `e` decode.
    rsa: Option<Rsa>,
}

#[derive(Clone, Debug)]
struct Rsa {
    n: Vec<u8>,
    e: Vec<u8>,
}

impl Rsa {
    fn from_jwk(value: &serde_json::Value) -> Option<Rsa> {
        if value.get("kty")?.as_str()? != "RSA" {
            return None;
        }
        // RFC 7518 §6.3.1.1 forbids leading zeros, and some providers
        // send one anyway (the sign byte of a DER integer); ring wants
        // none.
        let unsigned = |name: &str| -> Option<Vec<u8>> {
            let bytes = URL_SAFE_NO_PAD.decode(value.get(name)?.as_str()?).ok()?;
            let first = bytes.iter().position(|b| *b != 0)?;
            Some(bytes[first..].to_vec())
        };
        Some(Rsa { n: unsigned("n")?, e: unsigned("e")? })
    }
}

impl<'de> Deserialize<'de> for SigningKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        let jwk = CoreJsonWebKey::deserialize(&value).map_err(serde::de::Error::custom)?;
        Ok(SigningKey { rsa: Rsa::from_jwk(&value), jwk })
    }
}

impl Serialize for SigningKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.jwk.serialize(serializer)
    }
}

impl JsonWebKey for SigningKey {
    type KeyUse = CoreJsonWebKeyUse;
    type SigningAlgorithm = CoreJwsSigningAlgorithm;

    fn key_id(&self) -> Option<&JsonWebKeyId> {
        self.jwk.key_id()
    }

    fn key_type(&self) -> &CoreJsonWebKeyType {
        self.jwk.key_type()
    }

    fn key_use(&self) -> Option<&CoreJsonWebKeyUse> {
        self.jwk.key_use()
    }

    fn signing_alg(&self) -> JsonWebKeyAlgorithm<&CoreJwsSigningAlgorithm> {
        self.jwk.signing_alg()
    }

    fn new_symmetric(key: Vec<u8>) -> Self {
        SigningKey { jwk: CoreJsonWebKey::new_symmetric(key), rsa: None }
    }

    /// RS256 only, the one algorithm the verifier allows: anything else
    /// is refused here too, so a wider allow-list cannot quietly reach a
    /// check this type does not make.
    fn verify_signature(&self, alg: &CoreJwsSigningAlgorithm, message: &[u8], signature: &[u8]) -> Result<(), SignatureVerificationError> {
        if *alg != CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256 {
            return Err(SignatureVerificationError::UnsupportedAlg(format!("{alg:?}")));
        }
        // The verifier has already picked keys by these rules; a key
        // handed in directly must meet them as well.
        if self.key_use().is_some_and(|u| !u.allows_signature()) {
            return Err(SignatureVerificationError::InvalidKey("key usage not permitted for digital signatures".into()));
        }
        match self.signing_alg() {
            JsonWebKeyAlgorithm::Unspecified => {}
            JsonWebKeyAlgorithm::Algorithm(a) if a == alg => {}
            _ => return Err(SignatureVerificationError::InvalidKey("the key is for another algorithm".into())),
        }
        let Some(rsa) = &self.rsa else {
            return Err(SignatureVerificationError::InvalidKey("not an RSA key with a modulus and exponent".into()));
        };
        RsaPublicKeyComponents { n: &rsa.n, e: &rsa.e }
            .verify(&RSA_PKCS1_2048_8192_SHA256, message, signature)
            .map_err(|_| SignatureVerificationError::CryptoError("bad signature".into()))
    }

    fn hash_bytes(&self, bytes: &[u8], alg: &CoreJwsSigningAlgorithm) -> Result<Vec<u8>, String> {
        self.jwk.hash_bytes(bytes, alg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::rand::SystemRandom;
    use ring::signature::{RsaKeyPair, RSA_PKCS1_SHA256};
    use serde_json::json;

    const MESSAGE: &[u8] = b"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiI0MiJ9";

    /// The simulator's first test key, as PeeringDB would publish it.
    fn pair() -> RsaKeyPair {
        let pem = include_str!("../../../peeringdb-sim/keys/sim-1.pem");
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let der = base64::engine::general_purpose::STANDARD.decode(body).unwrap();
        RsaKeyPair::from_pkcs8(&der).unwrap()
    }

    fn sign(pair: &RsaKeyPair, message: &[u8]) -> Vec<u8> {
        let mut signature = vec![0; pair.public().modulus_len()];
        pair.sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), message, &mut signature).unwrap();
        signature
    }

    fn published(pair: &RsaKeyPair, extra: serde_json::Value) -> SigningKey {
        let components: RsaPublicKeyComponents<Vec<u8>> = pair.public().into();
        let mut jwk = json!({"kty": "RSA", "kid": "k1", "n": URL_SAFE_NO_PAD.encode(&components.n), "e": URL_SAFE_NO_PAD.encode(&components.e)});
        jwk.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        serde_json::from_value(jwk).unwrap()
    }

    const RS256: CoreJwsSigningAlgorithm = CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256;

    #[test]
    fn a_signature_by_the_published_key_verifies() {
        let pair = pair();
        let key = published(&pair, json!({"use": "sig", "alg": "RS256"}));
        assert!(key.verify_signature(&RS256, MESSAGE, &sign(&pair, MESSAGE)).is_ok());
    }

    #[test]
    fn a_changed_message_or_signature_is_refused() {
        let pair = pair();
        let key = published(&pair, json!({}));
        let mut signature = sign(&pair, MESSAGE);
        assert!(key.verify_signature(&RS256, b"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiI0MyJ9", &signature).is_err());
        signature[10] ^= 1;
        assert!(key.verify_signature(&RS256, MESSAGE, &signature).is_err());
    }

    #[test]
    fn a_modulus_published_with_a_leading_zero_still_verifies() {
        let pair = pair();
        let components: RsaPublicKeyComponents<Vec<u8>> = pair.public().into();
        let padded = [&[0u8][..], &components.n].concat();
        let key: SigningKey =
            serde_json::from_value(json!({"kty": "RSA", "n": URL_SAFE_NO_PAD.encode(padded), "e": URL_SAFE_NO_PAD.encode(&components.e)}))
                .unwrap();
        assert!(key.verify_signature(&RS256, MESSAGE, &sign(&pair, MESSAGE)).is_ok());
    }

    #[test]
    fn only_rs256_is_checked_even_with_the_right_key() {
        let pair = pair();
        let key = published(&pair, json!({}));
        let signature = sign(&pair, MESSAGE);
        for alg in [CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512, CoreJwsSigningAlgorithm::RsaSsaPssSha256, CoreJwsSigningAlgorithm::HmacSha256]
        {
            assert!(matches!(key.verify_signature(&alg, MESSAGE, &signature), Err(SignatureVerificationError::UnsupportedAlg(_))));
        }
    }

    #[test]
    fn a_key_published_for_encryption_or_another_algorithm_is_refused() {
        let pair = pair();
        let signature = sign(&pair, MESSAGE);
        for extra in [json!({"use": "enc"}), json!({"alg": "RS512"})] {
            let key = published(&pair, extra.clone());
            assert!(matches!(key.verify_signature(&RS256, MESSAGE, &signature), Err(SignatureVerificationError::InvalidKey(_))), "{extra}");
        }
    }

    /// RFC 7518 §3.3. The vector was made with OpenSSL: a 1024-bit key,
    /// and its valid PKCS #1 v1.5 SHA-256 signature of `MESSAGE`.
    #[test]
    fn a_key_shorter_than_2048_bits_is_refused_even_with_a_valid_signature() {
        let key: SigningKey = serde_json::from_value(json!({"kty": "RSA", "n": SHORT_N, "e": "AQAB"})).unwrap();
        let signature = URL_SAFE_NO_PAD.decode(SHORT_SIGNATURE).unwrap();
        assert!(key.verify_signature(&RS256, MESSAGE, &signature).is_err());
        // The signature is good: only the key's size refuses it.
        let n = URL_SAFE_NO_PAD.decode(SHORT_N).unwrap();
        let legacy = RsaPublicKeyComponents { n: &n[..], e: &[1, 0, 1][..] };
        assert!(legacy.verify(&ring::signature::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY, MESSAGE, &signature).is_ok());
    }

    #[test]
    fn a_key_that_is_not_rsa_is_refused() {
        let pair = pair();
        let key: SigningKey = serde_json::from_value(json!({"kty": "oct", "k": "c2VjcmV0"})).unwrap();
        assert!(matches!(key.verify_signature(&RS256, MESSAGE, &sign(&pair, MESSAGE)), Err(SignatureVerificationError::InvalidKey(_))));
    }

    const SHORT_N: &str = "6HlQ3EHakSCEIugnwNzOMcCSqkaZ3KmeqtTsv8EuoadxNdlE715umccVK6ErlEF24lbWxfrqkoL0TeDfbc2LlU2dxEUfJ5hJyO5wKP-fqvZb1L_HZuWqWSqSZX_CbaKIXm7XWyiwb_zn6cCp04wvtrSBLL564uOmxDGqzIVdF50";
    const SHORT_SIGNATURE: &str =
        "t2-F388TE62Zm8qyI4JvZ_ckySlohbmAaaT0Zmcc51yZaJdo6Q9C45M3-qiAn6ig25_my6YO8LfBhQaiuE1MdngVV-c65jjpmt9nChYfK0-pcjE1_Y-J0OsKGDNPDYBrHlqwXYXlEWGWTrQlEt8E3h7I1jhhBLvvcYkftHXx9-Y";
}
