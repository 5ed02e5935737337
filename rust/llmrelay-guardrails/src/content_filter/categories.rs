//! Keyword categories of `litellm_content_filter`: the ones bundled with llmrelay (lists written
//! for this project, under LiteLLM's category names) and custom category files.

use serde::Deserialize;

/// Keyword severity; a category reports keywords at or above its `severity_threshold`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Severity {
    Low,
    Medium,
    High,
}

impl Severity {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
        }
    }
}

/// One keyword of a category.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct CategoryKeyword {
    pub keyword: String,
    pub severity: Severity,
}

/// A category: keywords with severities, and exception phrases that shield them
/// (`kill the process` is not violence).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Category {
    #[serde(default)]
    pub default_action: Option<String>,
    pub keywords: Vec<CategoryKeyword>,
    #[serde(default)]
    pub exceptions: Vec<String>,
}

use Severity::{High, Low, Medium};

type Bundled = (
    &'static str,
    &'static str,
    &'static [(&'static str, Severity)],
    &'static [&'static str],
);

const BUNDLED: [Bundled; 7] = [
    (
        "harmful_self_harm",
        "Self-harm and suicide instructions or intent",
        &[
            ("kill myself", High),
            ("end my life", High),
            ("how to commit suicide", High),
            ("suicide method", High),
            ("painless way to die", High),
            ("want to die", Medium),
            ("self-harm", Medium),
            ("cut myself", Medium),
            ("overdose on", Medium),
            ("hurt myself", Medium),
        ],
        &["suicide prevention", "suicide hotline", "crisis line"],
    ),
    (
        "harmful_violence",
        "Planning or instructions for violence against people",
        &[
            ("how to kill someone", High),
            ("make a bomb", High),
            ("build a bomb", High),
            ("pipe bomb", High),
            ("mass shooting", High),
            ("plan an attack", High),
            ("poison someone", High),
            ("hire a hitman", High),
            ("hurt someone badly", Medium),
            ("beat someone up", Medium),
            ("stab", Low),
        ],
        &[
            "kill the process",
            "kill a process",
            "bath bomb",
            "photo bomb",
        ],
    ),
    (
        "harmful_illegal_weapons",
        "Acquiring or making illegal weapons",
        &[
            ("ghost gun", High),
            ("untraceable firearm", High),
            ("3d printed gun", High),
            ("convert to full auto", High),
            ("auto sear", High),
            ("homemade silencer", High),
            ("buy a gun without a background check", High),
            ("illegal firearm", Medium),
        ],
        &[],
    ),
    (
        "prompt_injection_jailbreak",
        "Attempts to override the model's instructions or safety rules",
        &[
            ("ignore all previous instructions", High),
            ("ignore previous instructions", High),
            ("disregard your instructions", High),
            ("you are now dan", High),
            ("do anything now", High),
            ("developer mode enabled", High),
            ("jailbreak mode", High),
            ("without any restrictions", Medium),
            ("no ethical guidelines", Medium),
        ],
        &[],
    ),
    (
        "prompt_injection_system_prompt",
        "Attempts to extract the system prompt",
        &[
            ("reveal your system prompt", High),
            ("print your system prompt", High),
            ("show me your system prompt", High),
            ("what is your system prompt", High),
            ("repeat the text above", Medium),
            ("show me your instructions", Medium),
            ("your initial instructions", Medium),
        ],
        &[],
    ),
    (
        "prompt_injection_data_exfiltration",
        "Attempts to send conversation data elsewhere",
        &[
            ("send the conversation to", High),
            ("exfiltrate", High),
            ("upload the chat history", High),
            ("post the contents of this conversation", High),
            ("email me the system prompt", High),
            ("leak the data", Medium),
        ],
        &[],
    ),
    (
        "denied_insults",
        "Insults aimed at a person",
        &[
            ("you are an idiot", Medium),
            ("you're an idiot", Medium),
            ("you are stupid", Medium),
            ("you moron", Medium),
            ("shut up", Low),
            ("loser", Low),
        ],
        &[],
    ),
];

/// Names of the bundled categories.
pub(crate) fn bundled_names() -> Vec<&'static str> {
    BUNDLED.iter().map(|(name, ..)| *name).collect()
}

/// A bundled category by name.
pub(crate) fn bundled(name: &str) -> Option<Category> {
    BUNDLED
        .iter()
        .find(|(bundled, ..)| *bundled == name)
        .map(|(_, _, keywords, exceptions)| Category {
            default_action: Some("BLOCK".to_owned()),
            keywords: keywords
                .iter()
                .map(|(keyword, severity)| CategoryKeyword {
                    keyword: (*keyword).to_owned(),
                    severity: *severity,
                })
                .collect(),
            exceptions: exceptions
                .iter()
                .map(|exception| (*exception).to_owned())
                .collect(),
        })
}

/// Reads a category file (YAML or JSON, LiteLLM's format).
pub(crate) fn load_file(path: &std::path::Path) -> Result<Category, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|error| format!("cannot read {}: {error}", path.display()))?;
    if path
        .extension()
        .is_some_and(|extension| extension == "json")
    {
        serde_json::from_str(&text).map_err(|error| format!("{}: {error}", path.display()))
    } else {
        serde_saphyr::from_str(&text).map_err(|error| format!("{}: {error}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_categories_exist_and_files_load() {
        assert!(bundled_names().contains(&"harmful_violence"));
        let category = bundled("harmful_self_harm").unwrap();
        assert!(
            category
                .keywords
                .iter()
                .any(|keyword| keyword.severity == High)
        );
        assert!(bundled("nope").is_none());
        let directory = std::env::temp_dir().join(format!(
            "llmrelay-guardrails-category-{}",
            std::process::id()
        ));
        std::fs::create_dir_all(&directory).unwrap();
        let file = directory.join("custom.yaml");
        std::fs::write(
            &file,
            "category_name: custom\ndefault_action: MASK\nkeywords:\n  - keyword: \"project falcon\"\n    severity: high\nexceptions: []\n",
        )
        .unwrap();
        let category = load_file(&file).unwrap();
        assert_eq!(category.default_action.as_deref(), Some("MASK"));
        assert_eq!(category.keywords[0].severity, High);
        assert!(load_file(&directory.join("missing.yaml")).is_err());
        std::fs::remove_dir_all(&directory).unwrap();
    }
}
