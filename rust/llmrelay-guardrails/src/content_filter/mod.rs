//! `litellm_content_filter`: prebuilt and custom regex patterns, blocked words (inline or from a
//! YAML file) and keyword categories, each with `BLOCK` or `MASK`, with LiteLLM's option names,
//! redaction formats and refusal messages.

mod categories;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, Input, MatchKind};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use llmrelay_core::types::ChatResponse;

use crate::config::{ConfigError, GuardrailSpec};
use crate::guardrail::{Guardrail, GuardrailFuture, HookContext, HookOutcome, StreamMode, ready};
use crate::info::Findings;
use crate::payload::{RequestPayload, for_each_response_text};
use crate::rules::{Action, Label, LabeledRules, Refusal, Replacement, RuleContext, RulesStage};
use crate::scan::{
    Candidate, Hit, Recognizer, RecognizerSet, RegexRecognizer, char_at, char_before,
};

use categories::Severity;

/// Longest match of a user regex held back in a stream (patterns without a bound are capped).
const USER_PATTERN_CAP: usize = 512;

/// `BLOCK` or `MASK`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FilterAction {
    Block,
    Mask,
}

impl<'de> Deserialize<'de> for FilterAction {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        match text.to_ascii_uppercase().as_str() {
            "BLOCK" => Ok(Self::Block),
            "MASK" => Ok(Self::Mask),
            _ => Err(serde::de::Error::custom(format!(
                "unknown action '{text}', expected BLOCK or MASK"
            ))),
        }
    }
}

impl FilterAction {
    fn action(self) -> Action {
        match self {
            Self::Block => Action::Block,
            Self::Mask => Action::Mask,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum PatternType {
    Prebuilt,
    Regex,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct PatternConfig {
    pattern_type: PatternType,
    #[serde(default)]
    pattern_name: Option<String>,
    #[serde(default)]
    pattern: Option<String>,
    #[serde(default)]
    name: Option<String>,
    action: FilterAction,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct BlockedWordConfig {
    keyword: String,
    action: FilterAction,
    #[serde(default)]
    description: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct CategoryConfig {
    category: String,
    #[serde(default)]
    enabled: Option<bool>,
    #[serde(default)]
    action: Option<FilterAction>,
    #[serde(default)]
    severity_threshold: Option<Severity>,
    #[serde(default)]
    category_file: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct ContentFilterOptions {
    #[serde(default)]
    patterns: Option<Vec<PatternConfig>>,
    #[serde(default)]
    blocked_words: Option<Vec<BlockedWordConfig>>,
    #[serde(default)]
    blocked_words_file: Option<String>,
    #[serde(default)]
    categories: Option<Vec<CategoryConfig>>,
    #[serde(default)]
    severity_threshold: Option<Severity>,
    #[serde(default)]
    pattern_redaction_format: Option<String>,
    #[serde(default)]
    keyword_redaction_tag: Option<String>,
    #[serde(flatten)]
    other: Map<String, Value>,
}

#[derive(Debug, Deserialize)]
struct BlockedWordsFile {
    blocked_words: Vec<BlockedWordConfig>,
}

/// Literal keywords matched case-insensitively (leftmost-longest), optionally on word boundaries.
struct KeywordRecognizer {
    automaton: AhoCorasick,
    /// Per keyword: its label and whether it must stand as a whole word.
    entries: Vec<(usize, bool)>,
    max_len: usize,
}

impl Recognizer for KeywordRecognizer {
    fn max_len(&self) -> usize {
        self.max_len
    }

    fn scan(&self, haystack: &str, from: usize, out: &mut Vec<Candidate>) {
        if from > haystack.len() {
            return;
        }
        for found in self
            .automaton
            .find_iter(Input::new(haystack).span(from..haystack.len()))
        {
            let (start, end) = (found.start(), found.end());
            let Some(&(label, whole_word)) = self.entries.get(found.pattern().as_usize()) else {
                continue;
            };
            let bounded = !whole_word
                || (!char_before(haystack, start).is_some_and(char::is_alphanumeric)
                    && !char_at(haystack, end).is_some_and(char::is_alphanumeric));
            let hit = bounded.then_some(Hit {
                start,
                end,
                label,
                score: 1.0,
                open: None,
            });
            out.push(Candidate { start, end, hit });
        }
    }
}

/// Keywords with `*` wildcards become regexes (`*` is zero or one character, as in LiteLLM).
fn keyword_regex(keyword: &str) -> String {
    let parts: Vec<String> = keyword.split('*').map(regex::escape).collect();
    format!("(?i){}", parts.join(".?"))
}

/// The content filter guardrail.
pub(crate) struct ContentFilter {
    rules: Arc<LabeledRules>,
    patterns_checked: usize,
}

struct Builder<'s> {
    spec: &'s GuardrailSpec,
    labels: Vec<Label>,
    recognizers: Vec<Box<dyn Recognizer>>,
    keywords: Vec<(String, usize, bool)>,
    pattern_format: String,
    keyword_tag: String,
}

impl Builder<'_> {
    fn error(&self, field: &str, message: impl Into<String>) -> ConfigError {
        ConfigError::new(self.spec.field_path(field), message)
    }

    fn add_pattern(&mut self, index: usize, pattern: &PatternConfig) -> Result<(), ConfigError> {
        let field = format!("patterns[{index}]");
        let label = self.labels.len();
        let (name, found) = match pattern.pattern_type {
            PatternType::Prebuilt => {
                let name = pattern.pattern_name.clone().ok_or_else(|| {
                    self.error(
                        &format!("{field}.pattern_name"),
                        "pattern_name is required for prebuilt patterns",
                    )
                })?;
                let found = prebuilt(&name, label).ok_or_else(|| {
                    self.error(
                        &format!("{field}.pattern_name"),
                        format!(
                            "unknown prebuilt pattern '{name}'; llmrelay has: {}",
                            crate::pii::recognizers::PREBUILT
                                .iter()
                                .chain(SECRET_PREBUILT.iter().map(|(n, _)| n))
                                .copied()
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    )
                })?;
                (name, found)
            }
            PatternType::Regex => {
                let source = pattern.pattern.clone().ok_or_else(|| {
                    self.error(
                        &format!("{field}.pattern"),
                        "pattern is required for regex patterns",
                    )
                })?;
                let recognizer = RegexRecognizer::new_capped(
                    &format!("(?i){source}"),
                    label,
                    1.0,
                    USER_PATTERN_CAP,
                )
                .map(RegexRecognizer::slow_search)
                .map_err(|message| {
                    self.error(
                        &format!("{field}.pattern"),
                        format!("invalid regex: {message}"),
                    )
                })?;
                (
                    pattern
                        .name
                        .clone()
                        .unwrap_or_else(|| "custom_regex".to_owned()),
                    Ok(vec![Box::new(recognizer) as Box<dyn Recognizer>]),
                )
            }
        };
        let found = found.map_err(|message| self.error(&field, message))?;
        self.recognizers.extend(found);
        let mut detail = Map::new();
        detail.insert(
            "error".to_owned(),
            Value::from(format!("Content blocked: {name} pattern detected")),
        );
        detail.insert("pattern".to_owned(), Value::from(name.clone()));
        self.labels.push(Label {
            name: name.clone(),
            action: pattern.action.action(),
            replacement: Replacement::Fixed(
                self.pattern_format
                    .replace("{pattern_name}", &name.to_uppercase()),
            ),
            refusal: Refusal::Detail(detail),
            min_score: 0.0,
            report: json!({"type": "pattern", "pattern_name": name})
                .as_object()
                .cloned(),
        });
        Ok(())
    }

    fn add_blocked_word(&mut self, word: &BlockedWordConfig) {
        let keyword = word.keyword.to_lowercase();
        let mut message = format!("Content blocked: keyword '{keyword}' detected");
        if let Some(description) = &word.description {
            message.push_str(&format!(" ({description})"));
        }
        let mut detail = Map::new();
        detail.insert("error".to_owned(), Value::from(message));
        detail.insert("keyword".to_owned(), Value::from(keyword.clone()));
        detail.insert(
            "description".to_owned(),
            word.description.clone().map_or(Value::Null, Value::from),
        );
        let label = self.labels.len();
        self.labels.push(Label {
            name: "blocked_word".to_owned(),
            action: word.action.action(),
            replacement: Replacement::Fixed(self.keyword_tag.clone()),
            refusal: Refusal::Detail(detail),
            min_score: 0.0,
            report:
                json!({"type": "blocked_word", "keyword": keyword, "description": word.description})
                    .as_object()
                    .cloned(),
        });
        self.keywords.push((keyword, label, false));
    }

    fn add_category(
        &mut self,
        index: usize,
        config: &CategoryConfig,
        default_threshold: Severity,
        base_dir: Option<&Path>,
    ) -> Result<(), ConfigError> {
        if config.enabled == Some(false) {
            return Ok(());
        }
        let field = format!("categories[{index}]");
        let category = match &config.category_file {
            Some(file) => categories::load_file(&resolve_path(file, base_dir))
                .map_err(|message| self.error(&format!("{field}.category_file"), message))?,
            None => categories::bundled(&config.category).ok_or_else(|| {
                self.error(
                    &format!("{field}.category"),
                    format!(
                        "unknown category '{}'; bundled: {} (or give a category_file)",
                        config.category,
                        categories::bundled_names().join(", ")
                    ),
                )
            })?,
        };
        let action = match config.action {
            Some(action) => action,
            None => match category
                .default_action
                .as_deref()
                .map(str::to_ascii_uppercase)
                .as_deref()
            {
                Some("MASK") => FilterAction::Mask,
                _ => FilterAction::Block,
            },
        };
        let threshold = config.severity_threshold.unwrap_or(default_threshold);
        let name = config.category.clone();
        for keyword in category
            .keywords
            .iter()
            .filter(|keyword| keyword.severity >= threshold)
        {
            let text = keyword.keyword.to_lowercase();
            let severity = keyword.severity.as_str();
            let mut detail = Map::new();
            detail.insert(
                "error".to_owned(),
                Value::from(format!("Content blocked: {name} category keyword '{text}' detected (severity: {severity})")),
            );
            detail.insert("category".to_owned(), Value::from(name.clone()));
            detail.insert("keyword".to_owned(), Value::from(text.clone()));
            detail.insert("severity".to_owned(), Value::from(severity));
            let label = self.labels.len();
            self.labels.push(Label {
                name: name.clone(),
                action: action.action(),
                replacement: Replacement::Fixed(self.keyword_tag.clone()),
                refusal: Refusal::Detail(detail),
                min_score: 0.0,
                report: json!({"type": "category_keyword", "category": name, "keyword": text, "severity": severity}).as_object().cloned(),
            });
            let whole_word = !text.contains(' ');
            self.keywords.push((text, label, whole_word));
        }
        for exception in &category.exceptions {
            let label = self.labels.len();
            self.labels.push(Label {
                name: format!("{name}_exception"),
                action: Action::Allow,
                replacement: Replacement::Fixed(String::new()),
                refusal: Refusal::BlockedEntity,
                min_score: 0.0,
                report: None,
            });
            self.keywords.push((exception.to_lowercase(), label, false));
        }
        Ok(())
    }

    fn finish(mut self) -> Result<LabeledRules, ConfigError> {
        let (literal, wildcard): (Vec<_>, Vec<_>) = std::mem::take(&mut self.keywords)
            .into_iter()
            .partition(|(keyword, ..)| !keyword.contains('*'));
        for (keyword, label, _) in wildcard {
            let recognizer =
                RegexRecognizer::new_capped(&keyword_regex(&keyword), label, 1.0, USER_PATTERN_CAP)
                    .map_err(|message| self.error("blocked_words", message))?;
            self.recognizers.push(Box::new(recognizer));
        }
        if !literal.is_empty() {
            let automaton = AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::LeftmostLongest)
                .kind(Some(AhoCorasickKind::DFA))
                .build(literal.iter().map(|(keyword, ..)| keyword.as_str()))
                .map_err(|error| self.error("blocked_words", error.to_string()))?;
            let max_len = literal
                .iter()
                .map(|(keyword, ..)| keyword.len())
                .max()
                .unwrap_or(0);
            let entries = literal
                .iter()
                .map(|(_, label, whole)| (*label, *whole))
                .collect();
            self.recognizers.push(Box::new(KeywordRecognizer {
                automaton,
                entries,
                max_len,
            }));
        }
        Ok(LabeledRules {
            set: RecognizerSet::new(self.recognizers),
            labels: self.labels,
            method: "regex",
        })
    }
}

/// Prebuilt names served by the secret detectors.
const SECRET_PREBUILT: [(&str, &str); 5] = [
    ("aws_access_key", "AWS_ACCESS_KEY_ID"),
    ("aws_secret_key", "AWS_SECRET_ACCESS_KEY"),
    ("github_token", "GITHUB_TOKEN"),
    ("slack_token", "SLACK_TOKEN"),
    ("generic_api_key", "SECRET"),
];

fn prebuilt(name: &str, label: usize) -> Option<Result<Vec<Box<dyn Recognizer>>, String>> {
    crate::pii::recognizers::prebuilt(name, label).or_else(|| {
        SECRET_PREBUILT
            .iter()
            .find(|(prebuilt, _)| *prebuilt == name)
            .map(|(_, secret)| crate::secrets::regex_detectors(secret, label))
    })
}

/// A path from the config, relative to the config file's directory when it has one.
pub(crate) fn resolve_path(path: &str, base_dir: Option<&Path>) -> PathBuf {
    let path = Path::new(path);
    match base_dir {
        Some(base) if path.is_relative() => base.join(path),
        _ => path.to_path_buf(),
    }
}

impl ContentFilter {
    pub(crate) fn build(
        spec: &GuardrailSpec,
        base_dir: Option<&Path>,
        warnings: &mut Vec<String>,
    ) -> Result<Self, ConfigError> {
        let options: ContentFilterOptions = spec.parse_options()?;
        for key in options.other.keys() {
            warnings.push(format!(
                "{}: not supported by llmrelay's content filter; ignored",
                spec.field_path(key)
            ));
        }
        let mut builder = Builder {
            spec,
            labels: Vec::new(),
            recognizers: Vec::new(),
            keywords: Vec::new(),
            pattern_format: options
                .pattern_redaction_format
                .clone()
                .unwrap_or_else(|| "[{pattern_name}_REDACTED]".to_owned()),
            keyword_tag: options
                .keyword_redaction_tag
                .clone()
                .unwrap_or_else(|| "[KEYWORD_REDACTED]".to_owned()),
        };
        let threshold = options.severity_threshold.unwrap_or(Severity::Medium);
        for (index, category) in options.categories.iter().flatten().enumerate() {
            builder.add_category(index, category, threshold, base_dir)?;
        }
        let patterns = options.patterns.clone().unwrap_or_default();
        for (index, pattern) in patterns.iter().enumerate() {
            builder.add_pattern(index, pattern)?;
        }
        for word in options.blocked_words.iter().flatten() {
            builder.add_blocked_word(word);
        }
        if let Some(file) = &options.blocked_words_file {
            let path = resolve_path(file, base_dir);
            let text = std::fs::read_to_string(&path).map_err(|error| {
                ConfigError::new(
                    spec.field_path("blocked_words_file"),
                    format!("Blocked words file not found: {} ({error})", path.display()),
                )
            })?;
            let parsed: BlockedWordsFile = serde_saphyr::from_str(&text).map_err(|error| {
                ConfigError::new(
                    spec.field_path("blocked_words_file"),
                    format!(
                        "Error loading blocked words file {}: {error}",
                        path.display()
                    ),
                )
            })?;
            for word in &parsed.blocked_words {
                builder.add_blocked_word(word);
            }
        }
        let patterns_checked = patterns.len() + builder.keywords.len();
        Ok(Self {
            rules: Arc::new(builder.finish()?),
            patterns_checked,
        })
    }

    fn finish(&self, mut findings: Findings) -> HookOutcome {
        findings.patterns_checked = Some(self.patterns_checked);
        if let Some(Value::Array(entries)) = &findings.response {
            let mut methods: Vec<&str> = entries
                .iter()
                .filter_map(|entry| entry.get("type").and_then(Value::as_str))
                .map(|kind| {
                    if kind == "pattern" {
                        "regex"
                    } else {
                        "keyword"
                    }
                })
                .collect();
            methods.sort_unstable();
            methods.dedup();
            findings.detection_method = Some(methods.join(","));
        } else {
            findings.response = Some(Value::Array(Vec::new()));
        }
        HookOutcome::with_findings(findings)
    }
}

impl Guardrail for ContentFilter {
    fn provider(&self) -> &str {
        "litellm_content_filter"
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
        ready(result.map(|()| self.finish(findings)))
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
        ready(result.map(|()| self.finish(findings)))
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

    fn build(options: Value) -> Result<ContentFilter, ConfigError> {
        let mut params = json!({"guardrail": "litellm_content_filter", "mode": "pre_call"});
        if let (Value::Object(params), Value::Object(options)) = (&mut params, options) {
            params.extend(options);
        }
        let spec = GuardrailsConfig::from_sections(
            Some(&json!([{"guardrail_name": "cf", "litellm_params": params}])),
            None,
        )
        .unwrap()
        .guardrails
        .remove(0);
        ContentFilter::build(&spec, None, &mut Vec::new())
    }

    fn filter(
        guard: &ContentFilter,
        text: &str,
    ) -> Result<(String, Findings), crate::error::GuardrailError> {
        let call = CallState::default();
        let context = RuleContext {
            name: "cf",
            hook: EventHook::PreCall,
            call: &call,
        };
        let mut text = text.to_owned();
        let mut findings = Findings::default();
        guard.rules.apply_to(&mut text, context, &mut findings)?;
        Ok((text, guard.finish(findings).findings))
    }

    #[test]
    fn masks_and_blocks_like_litellm() {
        let guard = build(json!({
            "blocked_words": [{"keyword": "forbiddenword", "action": "BLOCK", "description": "not allowed"}, {"keyword": "maskme", "action": "MASK"}],
            "patterns": [{"pattern_type": "prebuilt", "pattern_name": "us_ssn", "action": "BLOCK"}, {"pattern_type": "prebuilt", "pattern_name": "email", "action": "MASK"},
                         {"pattern_type": "regex", "pattern": "ticket-[0-9]{4}", "name": "ticket", "action": "MASK"}]
        }))
        .unwrap();
        let (text, findings) = filter(&guard, "mail a@b.com MASKME re TICKET-1234").unwrap();
        assert_eq!(
            text,
            "mail [EMAIL_REDACTED] [KEYWORD_REDACTED] re [TICKET_REDACTED]"
        );
        assert_eq!(findings.masked_entity_count.get("email"), Some(&1));
        assert_eq!(findings.masked_entity_count.get("blocked_word"), Some(&1));
        assert_eq!(findings.detection_method.as_deref(), Some("keyword,regex"));
        assert_eq!(findings.patterns_checked, Some(5));
        assert_eq!(findings.response.as_ref().unwrap()[0]["type"], "pattern");

        let error = filter(&guard, "say forbiddenword please").unwrap_err();
        assert_eq!(
            error.to_openai_json()["error"]["provider_specific_fields"],
            json!({"error": "Content blocked: keyword 'forbiddenword' detected (not allowed)", "keyword": "forbiddenword",
                   "description": "not allowed", "guardrail_name": "cf", "guardrail_mode": "pre_call"})
        );
        let error = filter(&guard, "my ssn 536-22-1234").unwrap_err();
        assert_eq!(error.message(), "Content blocked: us_ssn pattern detected");
    }

    #[test]
    fn categories_respect_severity_words_and_exceptions() {
        let guard =
            build(json!({"categories": [{"category": "harmful_violence", "action": "BLOCK"}]}))
                .unwrap();
        let error = filter(&guard, "how do I build a bomb at home").unwrap_err();
        assert_eq!(
            error.message(),
            "Content blocked: harmful_violence category keyword 'build a bomb' detected (severity: high)"
        );
        // "stab" is low severity: under the medium threshold.
        assert!(filter(&guard, "a stab in the dark").is_ok());
        let low = build(json!({"categories": [{"category": "harmful_violence", "action": "MASK", "severity_threshold": "low"}]})).unwrap();
        assert_eq!(
            filter(&low, "a stab in the dark, stable").unwrap().0,
            "a [KEYWORD_REDACTED] in the dark, stable"
        );
    }

    #[test]
    fn config_errors_have_paths() {
        let error = build(json!({"patterns": [{"pattern_type": "prebuilt", "action": "BLOCK"}]}))
            .err()
            .unwrap();
        assert_eq!(
            error.path,
            "guardrails[0].litellm_params.patterns[0].pattern_name"
        );
        let error = build(json!({"patterns": [{"pattern_type": "prebuilt", "pattern_name": "passport_mars", "action": "BLOCK"}]})).err().unwrap();
        assert!(error.message.contains("unknown prebuilt pattern"));
        let error = build(json!({"patterns": [{"pattern_type": "regex", "pattern": "(?<=x)y", "action": "MASK"}]})).err().unwrap();
        assert_eq!(
            error.path,
            "guardrails[0].litellm_params.patterns[0].pattern"
        );
        let error = build(json!({"blocked_words": [{"keyword": "x", "action": "DROP"}]}))
            .err()
            .unwrap();
        assert_eq!(
            error.path,
            "guardrails[0].litellm_params.blocked_words[0].action"
        );
        let error = build(json!({"categories": [{"category": "nonexistent", "action": "BLOCK"}]}))
            .err()
            .unwrap();
        assert_eq!(
            error.path,
            "guardrails[0].litellm_params.categories[0].category"
        );
        let error = build(json!({"blocked_words_file": "/nonexistent/words.yaml"}))
            .err()
            .unwrap();
        assert_eq!(
            error.path,
            "guardrails[0].litellm_params.blocked_words_file"
        );
    }

    #[test]
    fn wildcards_and_files() {
        let directory =
            std::env::temp_dir().join(format!("llmrelay-guardrails-words-{}", std::process::id()));
        std::fs::create_dir_all(&directory).unwrap();
        std::fs::write(
            directory.join("words.yaml"),
            "blocked_words:\n  - keyword: \"d*rn\"\n    action: MASK\n",
        )
        .unwrap();
        let mut params = json!({"guardrail": "litellm_content_filter", "mode": "pre_call", "blocked_words_file": "words.yaml"});
        let spec = GuardrailsConfig::from_sections(
            Some(&json!([{"guardrail_name": "cf", "litellm_params": params.take()}])),
            None,
        )
        .unwrap()
        .guardrails
        .remove(0);
        let guard = ContentFilter::build(&spec, Some(&directory), &mut Vec::new()).unwrap();
        assert_eq!(
            filter(&guard, "darn it, drn").unwrap().0,
            "[KEYWORD_REDACTED] it, [KEYWORD_REDACTED]"
        );
        std::fs::remove_dir_all(&directory).unwrap();
    }
}
