//! Encryption at rest of provider credentials and DB deployments' `litellm_params` with
//! `LITELLM_SALT_KEY`: AES-256-GCM, a random 96-bit nonce per value, the key the SHA-256 of the
//! salt key — LiteLLM's own `v2:gcm:` format, so either proxy reads the other's values. Values
//! LiteLLM wrote with its legacy NaCl secretbox (XSalsa20-Poly1305, same key) are read too.

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::error::GovernanceError;

/// LiteLLM's marker for AES-256-GCM values: `v2:gcm:` + base64url(nonce ‖ ciphertext ‖ tag).
pub const AES_GCM_PREFIX: &str = "v2:gcm:";
/// llmrelay's marker for a non-string value (a JSON object, number, …) encrypted as its JSON
/// text in the same format, so that it reads back with its type.
pub const AES_GCM_JSON_PREFIX: &str = "v2:gcm+json:";

const NONCE_LENGTH: usize = 12;
const LEGACY_NONCE_LENGTH: usize = 24;

/// Encrypts and decrypts stored secrets with a key derived from the salt key.
#[derive(Clone)]
pub struct SecretCipher {
    key: [u8; 32],
}

impl std::fmt::Debug for SecretCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretCipher").finish_non_exhaustive()
    }
}

impl SecretCipher {
    /// The cipher for `LITELLM_SALT_KEY` (or the master key, as LiteLLM falls back to).
    #[must_use]
    pub fn new(salt_key: &str) -> Self {
        Self {
            key: Sha256::digest(salt_key.as_bytes()).into(),
        }
    }

    fn aes(&self) -> Aes256Gcm {
        Aes256Gcm::new(&self.key.into())
    }

    fn seal(&self, plaintext: &[u8]) -> Result<String, GovernanceError> {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let ciphertext = self
            .aes()
            .encrypt(&nonce, plaintext)
            .map_err(|_| GovernanceError::Internal("encryption failed".to_owned()))?;
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&ciphertext);
        Ok(URL_SAFE.encode(sealed))
    }

    fn open(&self, encoded: &str) -> Result<Vec<u8>, GovernanceError> {
        let sealed = URL_SAFE
            .decode(encoded)
            .map_err(|e| GovernanceError::Internal(format!("stored secret is not base64: {e}")))?;
        if sealed.len() < NONCE_LENGTH + 16 {
            return Err(GovernanceError::Internal(
                "stored secret is too short".to_owned(),
            ));
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LENGTH);
        self.aes()
            .decrypt(Nonce::from_slice(nonce), ciphertext)
            .map_err(|_| {
                GovernanceError::Internal(
                    "stored secret does not decrypt with LITELLM_SALT_KEY (did the salt key change?)"
                        .to_owned(),
                )
            })
    }

    /// `v2:gcm:…` for a string.
    ///
    /// # Errors
    /// The cipher failed (not expected).
    pub fn encrypt_text(&self, plaintext: &str) -> Result<String, GovernanceError> {
        Ok(format!(
            "{AES_GCM_PREFIX}{}",
            self.seal(plaintext.as_bytes())?
        ))
    }

    /// Encrypts any JSON value: strings in LiteLLM's format, other values as their JSON text.
    ///
    /// # Errors
    /// The cipher failed (not expected).
    pub fn encrypt_value(&self, value: &Value) -> Result<Value, GovernanceError> {
        match value {
            Value::Null => Ok(Value::Null),
            Value::String(text) => self.encrypt_text(text).map(Value::String),
            other => {
                let text = serde_json::to_string(other)
                    .map_err(|e| GovernanceError::Internal(e.to_string()))?;
                Ok(Value::String(format!(
                    "{AES_GCM_JSON_PREFIX}{}",
                    self.seal(text.as_bytes())?
                )))
            }
        }
    }

    /// Decrypts a stored string: `v2:gcm:` (AES-256-GCM), `v2:gcm+json:`, or LiteLLM's legacy
    /// NaCl secretbox (base64 of nonce ‖ tag ‖ ciphertext).
    ///
    /// # Errors
    /// The value is not a ciphertext under this key.
    pub fn decrypt_text(&self, stored: &str) -> Result<Value, GovernanceError> {
        if let Some(encoded) = stored.strip_prefix(AES_GCM_JSON_PREFIX) {
            let plaintext = self.open(encoded)?;
            return serde_json::from_slice(&plaintext).map_err(|e| {
                GovernanceError::Internal(format!(
                    "stored secret is not JSON after decryption: {e}"
                ))
            });
        }
        if let Some(encoded) = stored.strip_prefix(AES_GCM_PREFIX) {
            let plaintext = self.open(encoded)?;
            return String::from_utf8(plaintext)
                .map(Value::String)
                .map_err(|_| {
                    GovernanceError::Internal(
                        "stored secret is not UTF-8 after decryption".to_owned(),
                    )
                });
        }
        self.decrypt_legacy(stored).map(Value::String)
    }

    /// LiteLLM's default (pre-`encryption_algorithm`) format: PyNaCl `SecretBox` with the
    /// SHA-256 of the salt key, base64url (or standard base64) of nonce(24) ‖ tag ‖ ciphertext.
    fn decrypt_legacy(&self, stored: &str) -> Result<String, GovernanceError> {
        use crypto_secretbox::XSalsa20Poly1305;
        let not_legacy = || GovernanceError::Internal("not an encrypted value".to_owned());
        let sealed = URL_SAFE
            .decode(stored)
            .or_else(|_| STANDARD.decode(stored))
            .map_err(|_| not_legacy())?;
        if sealed.len() < LEGACY_NONCE_LENGTH + 16 {
            return Err(not_legacy());
        }
        let (nonce, ciphertext) = sealed.split_at(LEGACY_NONCE_LENGTH);
        let cipher = XSalsa20Poly1305::new(&self.key.into());
        let plaintext = cipher
            .decrypt(crypto_secretbox::Nonce::from_slice(nonce), ciphertext)
            .map_err(|_| not_legacy())?;
        String::from_utf8(plaintext).map_err(|_| not_legacy())
    }

    /// Decrypts a stored value when it is a ciphertext under this key; any other value (a
    /// plain value written by hand, a number) is returned as it is — LiteLLM's
    /// `return_original_value` reading.
    #[must_use]
    pub fn decrypt_or_keep(&self, stored: &Value) -> Value {
        match stored {
            Value::String(text) => self.decrypt_text(text).unwrap_or_else(|_| stored.clone()),
            other => other.clone(),
        }
    }

    /// Encrypts every value of a map (credential values).
    ///
    /// # Errors
    /// The cipher failed (not expected).
    pub fn encrypt_map(
        &self,
        values: &Map<String, Value>,
    ) -> Result<Map<String, Value>, GovernanceError> {
        values
            .iter()
            .map(|(k, v)| Ok((k.clone(), self.encrypt_value(v)?)))
            .collect()
    }

    /// Encrypts a deployment's `litellm_params` as LiteLLM does (every string value), plus
    /// non-string values under a secret-looking name (`vertex_credentials` given as an object).
    ///
    /// # Errors
    /// The cipher failed (not expected).
    pub fn encrypt_params(
        &self,
        params: &Map<String, Value>,
    ) -> Result<Map<String, Value>, GovernanceError> {
        params
            .iter()
            .map(|(k, v)| {
                let stored = match v {
                    Value::String(_) => self.encrypt_value(v)?,
                    Value::Null => Value::Null,
                    other if crate::redact::is_sensitive_key(k) => self.encrypt_value(other)?,
                    other => other.clone(),
                };
                Ok((k.clone(), stored))
            })
            .collect()
    }

    /// Decrypts every value of a stored map that is a ciphertext under this key.
    #[must_use]
    pub fn decrypt_map(&self, stored: &Map<String, Value>) -> Map<String, Value> {
        stored
            .iter()
            .map(|(k, v)| (k.clone(), self.decrypt_or_keep(v)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trips_with_a_fresh_nonce_per_value() {
        let cipher = SecretCipher::new("salt");
        let first = cipher.encrypt_text("sk-secret").unwrap();
        let second = cipher.encrypt_text("sk-secret").unwrap();
        assert!(first.starts_with(AES_GCM_PREFIX));
        assert_ne!(first, second, "the nonce must differ per value");
        assert!(!first.contains("sk-secret"));
        assert_eq!(cipher.decrypt_text(&first).unwrap(), json!("sk-secret"));
        let object = json!({"type": "service_account", "private_key": "x"});
        let stored = cipher.encrypt_value(&object).unwrap();
        assert_eq!(cipher.decrypt_or_keep(&stored), object);
        // Another salt key cannot read it; a plain value is kept as it is.
        assert!(SecretCipher::new("other").decrypt_text(&first).is_err());
        assert_eq!(
            cipher.decrypt_or_keep(&json!("https://api.example")),
            json!("https://api.example")
        );
    }

    #[test]
    fn reads_values_litellm_wrote() {
        // Written by LiteLLM 1.104 with LITELLM_SALT_KEY=sk-salt-test:
        // `_encrypt_aes_gcm` and the legacy `encrypt_value` (PyNaCl SecretBox), base64url.
        let cipher = SecretCipher::new("sk-salt-test");
        assert_eq!(
            cipher
                .decrypt_text(
                    "v2:gcm:79z6jHiXK3g20FzBcUs9BKNi92ULifElleFcoYy3cfJYy4RJXngMpAasmr96oIB-zEs="
                )
                .unwrap(),
            json!("sk-provider-secret-123")
        );
        assert_eq!(
            cipher
                .decrypt_text("a8u0safDMLMToT-Cdk_PAAA92164w5l8Avadgq1TjXSTIledXlKTr-YtGzBVPGU_q_OBG614BToqJb42PTQ=")
                .unwrap(),
            json!("sk-provider-secret-123")
        );
    }

    #[test]
    fn params_encrypt_strings_and_secret_objects_only() {
        let cipher = SecretCipher::new("salt");
        let params = json!({"model": "openai/gpt-4o", "api_key": "sk-x", "rpm": 10,
                            "vertex_credentials": {"k": "v"}, "tags": ["a"]});
        let stored = cipher.encrypt_params(params.as_object().unwrap()).unwrap();
        assert!(
            stored["model"]
                .as_str()
                .unwrap()
                .starts_with(AES_GCM_PREFIX)
        );
        assert_eq!(stored["rpm"], json!(10));
        assert_eq!(stored["tags"], json!(["a"]));
        assert!(
            stored["vertex_credentials"]
                .as_str()
                .unwrap()
                .starts_with(AES_GCM_JSON_PREFIX)
        );
        assert_eq!(Value::Object(cipher.decrypt_map(&stored)), params);
    }
}
