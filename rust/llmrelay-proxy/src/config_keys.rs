//! Config keys llmrelay does not act on, and what to say about them at start-up: a key LiteLLM
//! reads is "not supported by llmrelay yet", any other key is unknown (with the nearest known
//! name as a "did you mean").
//!
//! Whether llmrelay acts on a key is never listed here: it is what the typed config reads (the
//! keys left in a section's `other`/`extra` map after parsing are the ones nothing read) plus the
//! keys that code forwards by name ([`crate::routed::ROUTER_KEYS_IN_LITELLM_SETTINGS`]). The one
//! table here is LiteLLM's, generated from LiteLLM itself by `scripts/litellm-config-keys.py`.

use std::collections::BTreeMap;
use std::sync::OnceLock;

/// `section key` lines: the keys LiteLLM reads in each config section.
const LITELLM_CONFIG_KEYS: &str = include_str!("litellm_config_keys.txt");

/// A config section, as named in the table and in messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Section {
    TopLevel,
    LitellmSettings,
    GeneralSettings,
    RouterSettings,
    LitellmParams,
}

impl Section {
    fn table_name(self) -> &'static str {
        match self {
            Self::TopLevel => "top",
            Self::LitellmSettings => "litellm_settings",
            Self::GeneralSettings => "general_settings",
            Self::RouterSettings => "router_settings",
            Self::LitellmParams => "litellm_params",
        }
    }

    fn from_table_name(name: &str) -> Option<Self> {
        [
            Self::TopLevel,
            Self::LitellmSettings,
            Self::GeneralSettings,
            Self::RouterSettings,
            Self::LitellmParams,
        ]
        .into_iter()
        .find(|section| section.table_name() == name)
    }
}

fn table() -> &'static BTreeMap<Section, Vec<&'static str>> {
    static TABLE: OnceLock<BTreeMap<Section, Vec<&'static str>>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table: BTreeMap<Section, Vec<&'static str>> = BTreeMap::new();
        for line in LITELLM_CONFIG_KEYS.lines() {
            if line.starts_with('#') {
                continue;
            }
            if let Some((section, key)) = line.split_once(' ') {
                if let Some(section) = Section::from_table_name(section) {
                    table.entry(section).or_default().push(key);
                }
            }
        }
        table
    })
}

/// The keys LiteLLM reads in `section`.
#[must_use]
pub fn litellm_keys(section: Section) -> &'static [&'static str] {
    table().get(&section).map_or(&[], Vec::as_slice)
}

/// Whether LiteLLM reads `key` in `section`.
#[must_use]
pub fn litellm_knows(section: Section, key: &str) -> bool {
    litellm_keys(section).binary_search(&key).is_ok()
}

/// Optimal string alignment distance (edits, with adjacent transpositions counting one).
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut rows = vec![vec![0_usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    rows[a.len()][b.len()]
}

/// Whether `a` is `b` with two letters swapped (or the same letters in another order).
fn same_letters(a: &str, b: &str) -> bool {
    let mut a: Vec<char> = a.chars().collect();
    let mut b: Vec<char> = b.chars().collect();
    a.sort_unstable();
    b.sort_unstable();
    a == b
}

/// The known name closest to `key`, if one is close enough to be a typo of it. A short key
/// (five letters or fewer) only matches its own letters swapped: `rmp` is `rpm`, but `top_k`
/// is a real parameter, not a typo of `top_p`.
#[must_use]
pub fn nearest<'a>(key: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let length = key.chars().count();
    let limit = (length / 3).clamp(1, 3);
    candidates
        .into_iter()
        .filter(|candidate| *candidate != key)
        .filter(|candidate| length > 5 || same_letters(key, candidate))
        .map(|candidate| (distance(key, candidate), candidate))
        .filter(|(edits, _)| *edits <= limit)
        .min_by_key(|(edits, candidate)| (*edits, candidate.len()))
        .map(|(_, candidate)| candidate)
}

/// The warning for a key nothing in llmrelay read. `path` is how the key is named in the
/// message (`litellm_settings.num_retires`); `own_keys` are llmrelay's keys of the section that
/// LiteLLM does not have, offered as suggestions too.
#[must_use]
pub fn unused_key_warning(section: Section, key: &str, path: &str, own_keys: &[&str]) -> String {
    if litellm_knows(section, key) {
        return format!("{path} is not supported by llmrelay yet; ignored");
    }
    let candidates = litellm_keys(section).iter().chain(own_keys).copied();
    match nearest(key, candidates) {
        Some(suggestion) => format!("unknown key {path} ignored; did you mean '{suggestion}'?"),
        None => format!("unknown key {path} ignored"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_per_section_and_has_every_section() {
        for section in [
            Section::TopLevel,
            Section::LitellmSettings,
            Section::GeneralSettings,
            Section::RouterSettings,
            Section::LitellmParams,
        ] {
            let keys = litellm_keys(section);
            assert!(!keys.is_empty(), "{section:?}");
            assert!(keys.windows(2).all(|w| w[0] < w[1]), "{section:?} unsorted");
        }
        assert!(litellm_knows(Section::RouterSettings, "routing_strategy"));
        assert!(litellm_knows(
            Section::GeneralSettings,
            "max_parallel_requests"
        ));
        assert!(litellm_knows(Section::LitellmParams, "rpm"));
        assert!(!litellm_knows(Section::LitellmSettings, "num_retires"));
    }

    #[test]
    fn typos_get_a_suggestion() {
        assert_eq!(distance("num_retires", "num_retries"), 1);
        assert_eq!(distance("rmp", "rpm"), 1);
        assert_eq!(
            unused_key_warning(
                Section::LitellmSettings,
                "num_retires",
                "litellm_settings.num_retires",
                &[]
            ),
            "unknown key litellm_settings.num_retires ignored; did you mean 'num_retries'?"
        );
        assert_eq!(
            unused_key_warning(
                Section::RouterSettings,
                "routing_stratgy",
                "router_settings.routing_stratgy",
                &[]
            ),
            "unknown key router_settings.routing_stratgy ignored; did you mean 'routing_strategy'?"
        );
        assert_eq!(
            unused_key_warning(
                Section::RouterSettings,
                "provider_budget_config",
                "router_settings.provider_budget_config",
                &[]
            ),
            "router_settings.provider_budget_config is not supported by llmrelay yet; ignored"
        );
        assert_eq!(
            unused_key_warning(Section::TopLevel, "zzzzzzzzzzzz", "zzzzzzzzzzzz", &[]),
            "unknown key zzzzzzzzzzzz ignored"
        );
        assert_eq!(
            nearest("redis_sync_interval", ["redis_sync_interval_ms"]),
            Some("redis_sync_interval_ms")
        );
    }
}
