//! `hide-secrets`: API keys and tokens of common providers, private key blocks, JWTs, passwords in
//! URLs and assignments, and high-entropy quoted strings, masked as `[REDACTED_<TYPE>]`.
//!
//! `detect_secrets_config.plugins_used` (detect-secrets plugin names, as LiteLLM's enterprise
//! guardrail takes them) selects detectors; `limit` sets the entropy thresholds.

use std::sync::{Arc, LazyLock};

use base64::Engine as _;
use regex::Regex;
use serde::Deserialize;
use serde_json::{Map, Value};

use llmrelay_core::types::ChatResponse;

use crate::config::{ConfigError, GuardrailSpec};
use crate::guardrail::{Guardrail, GuardrailFuture, HookContext, HookOutcome, StreamMode, ready};
use crate::info::Findings;
use crate::payload::{RequestPayload, for_each_response_text};
use crate::rules::{Label, LabeledRules, Replacement, RuleContext, RulesStage};
use crate::scan::{
    Candidate, Hit, Recognizer, RecognizerSet, RegexRecognizer, Terminator, char_at, char_before,
};

/// Every secret type the built-in detectors report.
pub const SECRET_TYPES: [&str; 27] = [
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "GITHUB_TOKEN",
    "GITLAB_TOKEN",
    "SLACK_TOKEN",
    "SLACK_WEBHOOK_URL",
    "GOOGLE_API_KEY",
    "STRIPE_SECRET_KEY",
    "HUGGINGFACE_TOKEN",
    "SENDGRID_API_KEY",
    "NPM_TOKEN",
    "PYPI_TOKEN",
    "GROQ_API_KEY",
    "TWILIO_API_KEY",
    "MAILCHIMP_API_KEY",
    "TELEGRAM_BOT_TOKEN",
    "DISCORD_BOT_TOKEN",
    "AZURE_STORAGE_KEY",
    "PRIVATE_KEY",
    "JWT",
    "URL_PASSWORD",
    "PASSWORD",
    "SECRET",
    "HIGH_ENTROPY_STRING",
    "HEX_HIGH_ENTROPY_STRING",
];

fn token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// Words naming a secret, as word lists (`api key` → `api_key`, `apiKey`, `API-KEY`, …).
const SECRET_KEYWORDS: [&[&str]; 10] = [
    &["secret"],
    &["api", "key"],
    &["access", "token"],
    &["auth", "token"],
    &["client", "secret"],
    &["private", "key"],
    &["secret", "key"],
    &["bearer", "token"],
    &["token"],
    &["access", "key"],
];

/// Every common spelling of the keywords (lower, upper, capitalized, camel case; joined
/// directly, with `_` or with `-`) as one alternation: literal spellings let the regex engine
/// skip ahead, where a case-insensitive pattern would make it read every byte.
fn keyword_spellings(keywords: &[&[&str]]) -> String {
    let mut spellings: Vec<String> = Vec::new();
    let capitalize = |word: &str| word[..1].to_uppercase() + &word[1..];
    for words in keywords {
        for separator in ["", "_", "-"] {
            if words.len() == 1 && !separator.is_empty() {
                continue;
            }
            let lower = words.join(separator);
            let upper = lower.to_uppercase();
            let capitalized: Vec<String> = words.iter().map(|w| capitalize(w)).collect();
            let pascal = capitalized.join(separator);
            let camel = std::iter::once(words[0].to_owned())
                .chain(capitalized[1..].iter().cloned())
                .collect::<Vec<_>>()
                .join(separator);
            for spelling in [lower, upper, pascal, camel] {
                if !spellings.contains(&spelling) {
                    spellings.push(spelling);
                }
            }
        }
    }
    spellings
        .iter()
        .map(|spelling| regex::escape(spelling))
        .collect::<Vec<_>>()
        .join("|")
}

/// A token must not be part of a longer word.
fn standalone(text: &str, start: usize, end: usize) -> Option<(usize, usize)> {
    let before = char_before(text, start).is_some_and(token_char);
    let after = char_at(text, end).is_some_and(token_char);
    (!before && !after).then_some((start, end))
}

fn base64_value_end(text: &str, start: usize, end: usize) -> Option<(usize, usize)> {
    let after = char_at(text, end).is_some_and(|c| c.is_ascii_alphanumeric() || "/+=".contains(c));
    (!after).then_some((start, end))
}

fn is_placeholder(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    let first = value.chars().next().unwrap_or(' ');
    "<${%*[(".contains(first)
        || matches!(
            lower.as_str(),
            "null" | "none" | "true" | "false" | "undefined" | "redacted" | "password" | "example"
        )
        || [
            "os.environ",
            "process.env",
            "getenv",
            "env(",
            "settings.",
            "config.",
            "secrets.",
        ]
        .iter()
        .any(|prefix| lower.starts_with(prefix))
        || value
            .chars()
            .all(|c| c == value.chars().next().unwrap_or(c))
}

fn keyword_value(text: &str, start: usize, end: usize) -> Option<(usize, usize)> {
    // The value is the last capture; the caller narrows to it. Reject placeholders by looking at
    // what follows the separator.
    let candidate = &text[start..end];
    let value_start = candidate
        .char_indices()
        .skip_while(|(_, c)| *c != ':' && *c != '=')
        .skip_while(|(_, c)| matches!(c, ':' | '=' | '>' | ' ' | '\t' | '"' | '\''))
        .map(|(index, _)| index)
        .next()?;
    let value = &candidate[value_start..];
    (!is_placeholder(value)).then_some((start, end))
}

fn url_password(text: &str, start: usize, end: usize) -> Option<(usize, usize)> {
    let candidate = &text[start..end];
    let value = candidate
        .rsplit_once(':')
        .map_or("", |(_, value)| value.trim_end_matches('@'));
    (!is_placeholder(value) && !char_before(text, start).is_some_and(|c| c.is_ascii_alphanumeric()))
        .then_some((start, end))
}

fn jwt_header(text: &str, start: usize, end: usize) -> Option<(usize, usize)> {
    if char_before(text, start).is_some_and(|c| token_char(c) || c == '.') {
        return None;
    }
    let header = text[start..end].split('.').next()?;
    let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .ok()?;
    let value: Value = serde_json::from_slice(&decoded).ok()?;
    value.get("alg").is_some().then_some((start, end))
}

fn jwt_char(c: char) -> bool {
    token_char(c) || c == '.'
}

const KEY_KINDS: &str = "(?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP |DH )?";

static PRIVATE_KEY_END: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(&format!("-----END {KEY_KINDS}PRIVATE KEY(?: BLOCK)?-----")).ok());

/// Shannon entropy in bits per character.
pub(crate) fn shannon_entropy(text: &str) -> f64 {
    let mut counts = [0u32; 256];
    let mut total = 0u32;
    for byte in text.bytes() {
        counts[usize::from(byte)] += 1;
        total += 1;
    }
    if total == 0 {
        return 0.0;
    }
    let total = f64::from(total);
    counts
        .iter()
        .filter(|count| **count > 0)
        .map(|count| {
            let p = f64::from(*count) / total;
            -p * p.log2()
        })
        .sum()
}

/// Quoted strings of 20–200 base64/hex characters whose entropy is over a limit (detect-secrets'
/// `Base64HighEntropyString` and `HexHighEntropyString`, which also look at quoted strings only).
struct HighEntropyRecognizer {
    base64_label: Option<usize>,
    hex_label: Option<usize>,
    base64_limit: f64,
    hex_limit: f64,
}

const ENTROPY_MIN_LEN: usize = 20;
const ENTROPY_MAX_LEN: usize = 200;

fn entropy_char(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'+' | b'/' | b'=' | b'_' | b'-')
}

impl Recognizer for HighEntropyRecognizer {
    fn max_len(&self) -> usize {
        ENTROPY_MAX_LEN + 2
    }

    fn scan(&self, haystack: &str, from: usize, out: &mut Vec<Candidate>) {
        let bytes = haystack.as_bytes();
        let mut position = from;
        while let Some(offset) = bytes
            .get(position..)
            .and_then(|rest| rest.iter().position(|b| *b == b'"' || *b == b'\''))
        {
            let quote_at = position + offset;
            let quote = bytes[quote_at];
            let body_start = quote_at + 1;
            let mut body_end = body_start;
            while body_end < bytes.len()
                && body_end - body_start <= ENTROPY_MAX_LEN
                && entropy_char(bytes[body_end])
            {
                body_end += 1;
            }
            let length = body_end - body_start;
            position = body_start;
            if body_end == bytes.len() && length <= ENTROPY_MAX_LEN {
                // Undecided until the string closes.
                out.push(Candidate {
                    start: quote_at,
                    end: bytes.len(),
                    hit: None,
                });
                continue;
            }
            if length > ENTROPY_MAX_LEN {
                out.push(Candidate {
                    start: quote_at,
                    end: body_end,
                    hit: None,
                });
                continue;
            }
            if length < ENTROPY_MIN_LEN || bytes[body_end] != quote {
                continue;
            }
            let body = &haystack[body_start..body_end];
            let is_hex = body.bytes().all(|b| b.is_ascii_hexdigit());
            let entropy = shannon_entropy(body);
            let label = if is_hex {
                self.hex_label.filter(|_| entropy > self.hex_limit)
            } else {
                let mixed = body.bytes().any(|b| b.is_ascii_digit())
                    && body.bytes().any(|b| b.is_ascii_alphabetic());
                self.base64_label
                    .filter(|_| mixed && entropy > self.base64_limit)
            };
            let hit = label.map(|label| Hit {
                start: body_start,
                end: body_end,
                label,
                score: 0.6,
                open: None,
            });
            out.push(Candidate {
                start: quote_at,
                end: body_end + 1,
                hit,
            });
            position = body_end + 1;
        }
    }
}

/// detect-secrets plugin names and the secret types they stand for.
const PLUGINS: [(&str, &[&str]); 20] = [
    (
        "AWSKeyDetector",
        &["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"],
    ),
    ("AzureStorageKeyDetector", &["AZURE_STORAGE_KEY"]),
    ("BasicAuthDetector", &["URL_PASSWORD"]),
    ("DiscordBotTokenDetector", &["DISCORD_BOT_TOKEN"]),
    ("GitHubTokenDetector", &["GITHUB_TOKEN"]),
    ("GitLabTokenDetector", &["GITLAB_TOKEN"]),
    ("Base64HighEntropyString", &["HIGH_ENTROPY_STRING"]),
    ("HexHighEntropyString", &["HEX_HIGH_ENTROPY_STRING"]),
    ("JwtTokenDetector", &["JWT"]),
    ("KeywordDetector", &["PASSWORD", "SECRET"]),
    ("MailchimpDetector", &["MAILCHIMP_API_KEY"]),
    ("NpmDetector", &["NPM_TOKEN"]),
    ("OpenAIDetector", &["OPENAI_API_KEY"]),
    ("PrivateKeyDetector", &["PRIVATE_KEY"]),
    ("PypiTokenDetector", &["PYPI_TOKEN"]),
    ("SendGridDetector", &["SENDGRID_API_KEY"]),
    ("SlackDetector", &["SLACK_TOKEN", "SLACK_WEBHOOK_URL"]),
    ("StripeDetector", &["STRIPE_SECRET_KEY"]),
    ("TelegramBotTokenDetector", &["TELEGRAM_BOT_TOKEN"]),
    ("TwilioKeyDetector", &["TWILIO_API_KEY"]),
];

#[derive(Debug, Clone, Deserialize)]
struct PluginConfig {
    name: String,
    #[serde(default)]
    limit: Option<f64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct DetectSecretsConfig {
    #[serde(default)]
    plugins_used: Option<Vec<PluginConfig>>,
    #[serde(flatten)]
    other: Map<String, Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct HideSecretsOptions {
    #[serde(default)]
    detect_secrets_config: Option<DetectSecretsConfig>,
    #[serde(flatten)]
    other: Map<String, Value>,
}

/// The `hide-secrets` guardrail.
pub(crate) struct HideSecrets {
    rules: Arc<LabeledRules>,
}

pub(crate) fn regex_detectors(
    secret: &str,
    label: usize,
) -> Result<Vec<Box<dyn Recognizer>>, String> {
    let token = |pattern: &str| -> Result<Box<dyn Recognizer>, String> {
        Ok(Box::new(
            RegexRecognizer::new(pattern, label, 1.0)?.validated(standalone),
        ))
    };
    Ok(match secret {
        "OPENAI_API_KEY" => vec![
            token(r"sk-(?:proj|svcacct|admin)-[A-Za-z0-9_\-]{20,200}")?,
            token(r"sk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}")?,
            token(r"sk-[A-Za-z0-9]{32,64}")?,
        ],
        "ANTHROPIC_API_KEY" => vec![token(r"sk-ant-(?:api|admin|oat|sid)[0-9]{2}-[A-Za-z0-9_\-]{20,120}")?],
        "AWS_ACCESS_KEY_ID" => vec![token(r"(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|APKA|AROA|ASCA)[A-Z0-9]{16}")?],
        "AWS_SECRET_ACCESS_KEY" => vec![Box::new(
            RegexRecognizer::new(
                r#"(?i:aws_?secret_?access_?key|aws_?secret_?key|secret_?access_?key)["']?[ \t]{0,3}[:=][ \t]{0,3}["']?([A-Za-z0-9/+]{40})"#,
                label,
                1.0,
            )?
            .group(1)
            .validated(base64_value_end),
        )],
        "GITHUB_TOKEN" => vec![token(r"(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,76}")?, token(r"github_pat_[A-Za-z0-9_]{22,100}")?],
        "GITLAB_TOKEN" => vec![token(r"glpat-[A-Za-z0-9_\-]{20,50}")?],
        "SLACK_TOKEN" => vec![token(r"xox[abposr]-[A-Za-z0-9\-]{10,120}")?],
        "SLACK_WEBHOOK_URL" => vec![Box::new(RegexRecognizer::new(
            r"https://hooks\.slack\.com/services/T[A-Z0-9]{6,12}/B[A-Z0-9]{6,12}/[A-Za-z0-9]{20,32}",
            label,
            1.0,
        )?)],
        "GOOGLE_API_KEY" => vec![token(r"AIza[0-9A-Za-z_\-]{35}")?],
        "STRIPE_SECRET_KEY" => vec![token(r"(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{16,120}")?],
        "HUGGINGFACE_TOKEN" => vec![token(r"hf_[A-Za-z0-9]{34,40}")?],
        "SENDGRID_API_KEY" => vec![token(r"SG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}")?],
        "NPM_TOKEN" => vec![token(r"npm_[A-Za-z0-9]{36}")?],
        "PYPI_TOKEN" => vec![token(r"pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_\-]{50,180}")?],
        "GROQ_API_KEY" => vec![token(r"gsk_[A-Za-z0-9]{48,56}")?],
        "TWILIO_API_KEY" => vec![token(r"SK[0-9a-fA-F]{32}")?],
        "MAILCHIMP_API_KEY" => vec![token(r"[0-9a-f]{32}-us[0-9]{1,2}")?],
        "TELEGRAM_BOT_TOKEN" => vec![token(r"[0-9]{8,10}:AA[A-Za-z0-9_\-]{33}")?],
        "DISCORD_BOT_TOKEN" => vec![token(r"[MN][A-Za-z0-9]{23,25}\.[A-Za-z0-9_\-]{6}\.[A-Za-z0-9_\-]{27,38}")?],
        "AZURE_STORAGE_KEY" => vec![Box::new(
            RegexRecognizer::new(r"AccountKey=([A-Za-z0-9+/]{86}==)", label, 1.0)?.group(1),
        )],
        "PRIVATE_KEY" => {
            let Some(end) = PRIVATE_KEY_END.as_ref() else {
                return Err("private key terminator did not compile".to_owned());
            };
            vec![Box::new(
                RegexRecognizer::new(&format!("-----BEGIN {KEY_KINDS}PRIVATE KEY(?: BLOCK)?-----"), label, 1.0)?
                    .open_until(Terminator::Pattern(end)),
            )]
        }
        "JWT" => vec![Box::new(
            RegexRecognizer::new(r"eyJ[A-Za-z0-9_\-]{5,400}\.eyJ", label, 1.0)?
                .validated(jwt_header)
                .open_until(Terminator::WhileChar(jwt_char)),
        )],
        "URL_PASSWORD" => vec![Box::new(
            RegexRecognizer::new(r"[A-Za-z][A-Za-z0-9+.\-]{1,15}://[^\s:/@]{1,64}:([^\s:/@]{1,128})@", label, 0.9)?
                .group(1)
                .validated(url_password),
        )],
        "PASSWORD" => vec![Box::new(
            RegexRecognizer::new(
                r#"(?i:password|passwd|passphrase|pwd)["']?[ \t]{0,3}(?::=|=>|:|=)[ \t]{0,3}["']?([^\s"',;<>]{4,128})"#,
                label,
                0.7,
            )?
            .group(1)
            .validated(keyword_value),
        )],
        "SECRET" => vec![Box::new(
            RegexRecognizer::new(
                &format!(r#"(?:{})["']?[ \t]{{0,3}}(?::=|=>|:|=)[ \t]{{0,3}}["']?([^\s"',;<>]{{8,128}})"#, keyword_spellings(&SECRET_KEYWORDS)),
                label,
                0.7,
            )?
            .group(1)
            .validated(keyword_value),
        )],
        other => return Err(format!("unknown secret type {other}")),
    })
}

impl HideSecrets {
    pub(crate) fn build(
        spec: &GuardrailSpec,
        warnings: &mut Vec<String>,
    ) -> Result<Self, ConfigError> {
        let options: HideSecretsOptions = spec.parse_options()?;
        for key in options.other.keys() {
            warnings.push(format!(
                "{}: not a hide-secrets option; ignored",
                spec.field_path(key)
            ));
        }
        let config = options.detect_secrets_config.unwrap_or_default();
        for key in config.other.keys() {
            warnings.push(format!(
                "{}: not supported by the built-in detectors; ignored",
                spec.field_path(&format!("detect_secrets_config.{key}"))
            ));
        }
        let mut base64_limit = 4.5;
        let mut hex_limit = 3.0;
        let enabled: Vec<&str> = match &config.plugins_used {
            None => SECRET_TYPES.to_vec(),
            Some(plugins) => {
                let mut types = Vec::new();
                for (index, plugin) in plugins.iter().enumerate() {
                    let Some((_, kinds)) = PLUGINS.iter().find(|(name, _)| *name == plugin.name)
                    else {
                        warnings.push(format!(
                            "{}: detect-secrets plugin '{}' has no built-in equivalent; ignored",
                            spec.field_path(&format!(
                                "detect_secrets_config.plugins_used[{index}].name"
                            )),
                            plugin.name
                        ));
                        continue;
                    };
                    match (plugin.name.as_str(), plugin.limit) {
                        ("Base64HighEntropyString", Some(limit)) => base64_limit = limit,
                        ("HexHighEntropyString", Some(limit)) => hex_limit = limit,
                        _ => {}
                    }
                    types.extend(kinds.iter().copied());
                }
                types
            }
        };
        let mut labels = Vec::new();
        let mut recognizers: Vec<Box<dyn Recognizer>> = Vec::new();
        let mut base64_label = None;
        let mut hex_label = None;
        for secret in enabled {
            let index = labels.len();
            labels.push(Label::mask(
                secret,
                Replacement::Fixed(format!("[REDACTED_{secret}]")),
            ));
            match secret {
                "HIGH_ENTROPY_STRING" => base64_label = Some(index),
                "HEX_HIGH_ENTROPY_STRING" => hex_label = Some(index),
                _ => {
                    recognizers.extend(regex_detectors(secret, index).map_err(|message| {
                        ConfigError::new(spec.field_path("guardrail"), message)
                    })?)
                }
            }
        }
        if base64_label.is_some() || hex_label.is_some() {
            recognizers.push(Box::new(HighEntropyRecognizer {
                base64_label,
                hex_label,
                base64_limit,
                hex_limit,
            }));
        }
        Ok(Self {
            rules: Arc::new(LabeledRules {
                set: RecognizerSet::new(recognizers),
                labels,
                method: "regex",
            }),
        })
    }
}

impl Guardrail for HideSecrets {
    fn provider(&self) -> &str {
        "hide-secrets"
    }

    fn check_request<'a>(
        &'a self,
        request: &'a mut RequestPayload<'_>,
        context: HookContext<'a>,
    ) -> GuardrailFuture<'a> {
        let rule_context = RuleContext {
            name: context.guardrail_name,
            hook: context.hook,
            call: context.call,
        };
        let mut findings = Findings::default();
        let result = request.for_each_text(context.spec.roles.as_deref(), &mut |slot| {
            self.rules.apply_to(slot.text, rule_context, &mut findings)
        });
        ready(result.map(|()| HookOutcome::with_findings(findings)))
    }

    fn check_response<'a>(
        &'a self,
        response: &'a mut ChatResponse,
        context: HookContext<'a>,
    ) -> GuardrailFuture<'a> {
        let rule_context = RuleContext {
            name: context.guardrail_name,
            hook: context.hook,
            call: context.call,
        };
        let mut findings = Findings::default();
        let result = for_each_response_text(response, &mut |slot| {
            self.rules.apply_to(slot.text, rule_context, &mut findings)
        });
        ready(result.map(|()| HookOutcome::with_findings(findings)))
    }

    fn stream_mode(&self, context: HookContext<'_>) -> StreamMode {
        StreamMode::Incremental(Box::new(RulesStage::new(
            Arc::clone(&self.rules),
            context.guardrail_name,
            context.hook,
            Arc::clone(context.call),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{EventHook, GuardrailsConfig};
    use crate::guardrail::CallState;
    use serde_json::json;

    fn build(options: Value) -> HideSecrets {
        let mut params = json!({"guardrail": "hide-secrets", "mode": "pre_call"});
        if let (Value::Object(params), Value::Object(options)) = (&mut params, options) {
            params.extend(options);
        }
        let spec = GuardrailsConfig::from_sections(
            Some(&json!([{"guardrail_name": "s", "litellm_params": params}])),
            None,
        )
        .unwrap()
        .guardrails
        .remove(0);
        HideSecrets::build(&spec, &mut Vec::new()).unwrap()
    }

    fn redact(guard: &HideSecrets, text: &str) -> String {
        let call = CallState::default();
        let context = RuleContext {
            name: "s",
            hook: EventHook::PreCall,
            call: &call,
        };
        let mut text = text.to_owned();
        guard
            .rules
            .apply_to(&mut text, context, &mut Findings::default())
            .unwrap();
        text
    }

    #[test]
    fn provider_keys() {
        let guard = build(json!({}));
        let openai = format!("sk-proj-{}", "Ab3".repeat(50));
        assert_eq!(
            redact(&guard, &format!("key {openai} end")),
            "key [REDACTED_OPENAI_API_KEY] end"
        );
        let anthropic = format!("sk-ant-api03-{}AA", "x9Y".repeat(31));
        assert_eq!(redact(&guard, &anthropic), "[REDACTED_ANTHROPIC_API_KEY]");
        assert_eq!(
            redact(&guard, "id AKIAIOSFODNN7EXAMPLE."),
            "id [REDACTED_AWS_ACCESS_KEY_ID]."
        );
        assert_eq!(
            redact(
                &guard,
                "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
            ),
            "aws_secret_access_key = [REDACTED_AWS_SECRET_ACCESS_KEY]"
        );
        assert_eq!(
            redact(&guard, "ghp_abcdefghijklmnopqrstuvwxyz0123456789"),
            "[REDACTED_GITHUB_TOKEN]"
        );
        assert_eq!(
            redact(&guard, "xoxb-1234567890-abcdefghij"),
            "[REDACTED_SLACK_TOKEN]"
        );
        assert_eq!(
            redact(&guard, "AIzaSyA1234567890abcdefghijklmnopqrstuv"),
            "[REDACTED_GOOGLE_API_KEY]"
        );
        assert_eq!(
            redact(&guard, "sk_live_4eC39HqLyjWDarjtT1zdp7dc"),
            "[REDACTED_STRIPE_SECRET_KEY]"
        );
        assert_eq!(
            redact(&guard, "the task-list and sk-learn are words"),
            "the task-list and sk-learn are words"
        );
    }

    #[test]
    fn structured_secrets() {
        let guard = build(json!({}));
        let pem =
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\nabc\n-----END RSA PRIVATE KEY-----";
        assert_eq!(
            redact(&guard, &format!("key:\n{pem}\ndone")),
            "key:\n[REDACTED_PRIVATE_KEY]\ndone"
        );
        let jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
        assert_eq!(
            redact(&guard, &format!("Bearer {jwt} ok")),
            "Bearer [REDACTED_JWT] ok"
        );
        assert_eq!(
            redact(&guard, "postgres://admin:S3cr3tPass@db:5432/app"),
            "postgres://admin:[REDACTED_URL_PASSWORD]@db:5432/app"
        );
        assert_eq!(
            redact(&guard, "password=hunter22;"),
            "password=[REDACTED_PASSWORD];"
        );
        assert_eq!(
            redact(&guard, "password: ${DB_PASSWORD}"),
            "password: ${DB_PASSWORD}"
        );
        assert_eq!(
            redact(
                &guard,
                r#"cfg = {"k": "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWprbG1u"}"#
            ),
            r#"cfg = {"k": "[REDACTED_HIGH_ENTROPY_STRING]"}"#
        );
        assert_eq!(
            redact(&guard, r#"msg = "this_is_just_a_long_identifier_name""#),
            r#"msg = "this_is_just_a_long_identifier_name""#
        );
    }

    #[test]
    fn plugins_select_detectors() {
        let guard = build(
            json!({"detect_secrets_config": {"plugins_used": [{"name": "AWSKeyDetector"}, {"name": "SoftlayerDetector"}]}}),
        );
        assert_eq!(
            redact(
                &guard,
                "AKIAIOSFODNN7EXAMPLE ghp_abcdefghijklmnopqrstuvwxyz0123456789"
            ),
            "[REDACTED_AWS_ACCESS_KEY_ID] ghp_abcdefghijklmnopqrstuvwxyz0123456789"
        );
        assert!((shannon_entropy("aaaa") - 0.0).abs() < 1e-9);
        assert!((shannon_entropy("abcd") - 2.0).abs() < 1e-9);
    }
}
