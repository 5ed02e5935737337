//! Tag routing (LiteLLM's `enable_tag_filtering`): which deployments of a group a request's
//! tags allow. A deployment serves the requests whose tags it carries (any of them, or all
//! with `tag_filtering_match_any: false`); one tagged `"default"` serves untagged requests and
//! those whose tags no deployment knows; `!tag` leaves out the deployments carrying `tag` and
//! `&tag` keeps only those carrying it.

use std::borrow::Cow;
use std::sync::Arc;

use llmrelay_core::{Error, ErrorKind};

use crate::deployment::Deployment;

/// LiteLLM's `RouterErrors.no_deployments_with_tag_routing`: the request's tags allow none of
/// the group's deployments.
pub const NO_DEPLOYMENTS_WITH_TAG_ROUTING: &str =
    "Not allowed to access model due to tags configuration";

/// The tag of deployments that serve requests without a match.
pub const DEFAULT_TAG: &str = "default";

/// A request's tags, split once per call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TagQuery {
    /// As the request gave them (the error message names them so).
    given: Vec<String>,
    /// Tags a deployment must carry (any or all of them, as the Router is configured).
    positive: Vec<String>,
    /// `&tag`: every deployment left must carry each.
    required: Vec<String>,
    /// `!tag`: deployments carrying any of them are left out.
    excluded: Vec<String>,
    /// The tags that carried `tag_routing_prefix` (without it or their marker): routing tags
    /// even when no deployment of the group knows them.
    confirmed: Vec<String>,
}

impl TagQuery {
    /// Splits `tags` (the request's, in order), with `prefix` (`tag_routing_prefix`, may be
    /// empty) taken off the tags that start with it.
    #[must_use]
    pub fn new(tags: &[String], prefix: &str) -> Self {
        let mut query = Self {
            given: tags.to_vec(),
            ..Self::default()
        };
        for tag in tags {
            let (tag, confirmed) = match tag.strip_prefix(prefix) {
                Some(rest) if !prefix.is_empty() => (rest, true),
                _ => (tag.as_str(), false),
            };
            // A marker alone says nothing.
            let (list, bare) = match (tag.strip_prefix('&'), tag.strip_prefix('!')) {
                (Some(""), _) | (_, Some("")) => continue,
                (Some(bare), _) => (&mut query.required, bare),
                (_, Some(bare)) => (&mut query.excluded, bare),
                (None, None) => (&mut query.positive, tag),
            };
            push_once(list, bare);
            if confirmed {
                push_once(&mut query.confirmed, bare);
            }
        }
        query
    }

    /// Whether the request has no tag that steers routing.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.positive.is_empty() && self.required.is_empty() && self.excluded.is_empty()
    }
}

fn push_once(list: &mut Vec<String>, tag: &str) {
    if !list.iter().any(|t| t == tag) {
        list.push(tag.to_owned());
    }
}

/// How the Router filters by tags.
#[derive(Debug, Clone, Copy)]
pub struct TagPolicy {
    /// `enable_tag_filtering` (a group's deployments may override it).
    pub enabled: bool,
    /// `tag_filtering_match_any`.
    pub match_any: bool,
}

/// The deployments of `group` (all of the group's, before cooldowns) that `query` allows:
/// all of them when tag filtering is off for the group.
///
/// # Errors
/// LiteLLM's 401 naming the model and tags when the tags allow none.
pub fn allowed<'a>(
    group: &'a [Arc<Deployment>],
    query: &TagQuery,
    policy: TagPolicy,
    model: &str,
) -> Result<Cow<'a, [Arc<Deployment>]>, Error> {
    // The first deployment of the group that says decides for the group.
    let enabled = group
        .iter()
        .find_map(|d| d.tag_filtering)
        .unwrap_or(policy.enabled);
    if !enabled {
        return Ok(Cow::Borrowed(group));
    }
    if query.is_empty() {
        return Ok(defaults_or_all(group));
    }
    let carries = |d: &Deployment, tag: &String| d.tags.contains(tag);
    let pool: Vec<Arc<Deployment>> = group
        .iter()
        .filter(|d| !query.excluded.iter().any(|tag| carries(d, tag)))
        .filter(|d| query.required.iter().all(|tag| carries(d, tag)))
        .cloned()
        .collect();
    if query.positive.is_empty() {
        // Only `!` / `&` tags: what they leave of the default deployments, or of the group.
        let pool = if query.required.is_empty() {
            defaults_or_all(group)
                .iter()
                .filter(|d| !query.excluded.iter().any(|tag| carries(d, tag)))
                .cloned()
                .collect()
        } else {
            pool
        };
        return if pool.is_empty() {
            Err(no_deployments(model, query))
        } else {
            Ok(Cow::Owned(pool))
        };
    }
    let matches = |d: &Deployment| {
        !d.tags.is_empty()
            && if policy.match_any {
                query.positive.iter().any(|tag| carries(d, tag))
            } else {
                query.positive.iter().all(|tag| carries(d, tag))
            }
    };
    let matched: Vec<Arc<Deployment>> = pool.iter().filter(|d| matches(d)).cloned().collect();
    if !matched.is_empty() {
        return Ok(Cow::Owned(matched));
    }
    // No match: the default deployments serve tags the group does not know; a tag some
    // deployment of the group carries (or a prefixed one) is refused rather than served
    // elsewhere.
    let defaults: Vec<Arc<Deployment>> = pool
        .into_iter()
        .filter(|d| d.tags.iter().any(|t| t == DEFAULT_TAG))
        .collect();
    let known = query
        .positive
        .iter()
        .any(|tag| query.confirmed.contains(tag) || group.iter().any(|d| carries(d, tag)));
    if defaults.is_empty() || known {
        return Err(no_deployments(model, query));
    }
    Ok(Cow::Owned(defaults))
}

/// The deployments tagged `"default"`, else the whole group.
fn defaults_or_all(group: &[Arc<Deployment>]) -> Cow<'_, [Arc<Deployment>]> {
    let defaults: Vec<Arc<Deployment>> = group
        .iter()
        .filter(|d| d.tags.iter().any(|t| t == DEFAULT_TAG))
        .cloned()
        .collect();
    if defaults.is_empty() {
        Cow::Borrowed(group)
    } else {
        Cow::Owned(defaults)
    }
}

/// LiteLLM's error (its proxy answers it with a 401), the tags as Python prints a list. The
/// status is set: the refusal is the Router's word, not a missing upstream credential.
fn no_deployments(model: &str, query: &TagQuery) -> Error {
    Error::new(
        ErrorKind::Authentication,
        format!(
            "{NO_DEPLOYMENTS_WITH_TAG_ROUTING}. Passed model={model} and tags={}",
            python_list(&query.given)
        ),
    )
    .with_status(401)
    .with_model(model)
}

/// `str(list_of_strings)` in Python: `['a', "it's"]`.
fn python_list(items: &[String]) -> String {
    let quoted: Vec<String> = items
        .iter()
        .map(|item| {
            let quote = if item.contains('\'') && !item.contains('"') {
                '"'
            } else {
                '\''
            };
            let mut out = String::with_capacity(item.len() + 2);
            out.push(quote);
            for c in item.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    c if c == quote => {
                        out.push('\\');
                        out.push(c);
                    }
                    c => out.push(c),
                }
            }
            out.push(quote);
            out
        })
        .collect();
    format!("[{}]", quoted.join(", "))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use super::*;
    use crate::config::DeploymentConfig;
    use serde_json::json;

    fn deployment(id: &str, tags: &[&str]) -> Arc<Deployment> {
        let config: DeploymentConfig = serde_json::from_value(json!({
            "model_name": "gpt",
            "litellm_params": {"model": "openai/gpt-4o", "tags": tags},
            "model_info": {"id": id},
        }))
        .unwrap();
        Arc::new(Deployment::from_config(&config, "model_list[0]").unwrap())
    }

    fn query(tags: &[&str]) -> TagQuery {
        let tags: Vec<String> = tags.iter().map(|t| (*t).to_owned()).collect();
        TagQuery::new(&tags, "")
    }

    const ON: TagPolicy = TagPolicy {
        enabled: true,
        match_any: true,
    };
    const ALL: TagPolicy = TagPolicy {
        enabled: true,
        match_any: false,
    };

    fn ids(
        group: &[Arc<Deployment>],
        query: &TagQuery,
        policy: TagPolicy,
    ) -> Result<Vec<String>, Error> {
        allowed(group, query, policy, "gpt").map(|list| list.iter().map(|d| d.id.clone()).collect())
    }

    #[test]
    fn tags_choose_the_tagged_deployments() {
        let group = [
            deployment("free", &["free"]),
            deployment("paid", &["paid", "eu"]),
            deployment("plain", &[]),
        ];
        assert_eq!(ids(&group, &query(&["free"]), ON).unwrap(), ["free"]);
        assert_eq!(ids(&group, &query(&["paid"]), ON).unwrap(), ["paid"]);
        // Any tag matches by default; all of them with match_any off.
        assert_eq!(
            ids(&group, &query(&["eu", "free"]), ON).unwrap(),
            ["free", "paid"]
        );
        assert_eq!(ids(&group, &query(&["paid", "eu"]), ALL).unwrap(), ["paid"]);
        let error = ids(&group, &query(&["paid", "free"]), ALL).unwrap_err();
        assert_eq!(error.status_code(), 401);
        // Untagged requests may use every deployment when none is a default.
        assert_eq!(
            ids(&group, &query(&[]), ON).unwrap(),
            ["free", "paid", "plain"]
        );
    }

    #[test]
    fn default_deployments_serve_untagged_and_unknown_tags() {
        let group = [
            deployment("free", &["free"]),
            deployment("fallback", &["default"]),
        ];
        assert_eq!(ids(&group, &query(&[]), ON).unwrap(), ["fallback"]);
        assert_eq!(ids(&group, &query(&["unknown"]), ON).unwrap(), ["fallback"]);
        assert_eq!(ids(&group, &query(&["free"]), ON).unwrap(), ["free"]);
        // A tag the group knows but no deployment left can serve is refused, not defaulted.
        let error = ids(&group, &query(&["free", "!free"]), ON).unwrap_err();
        assert_eq!(error.status_code(), 401, "{error}");
    }

    #[test]
    fn tags_no_deployment_serves_are_refused_as_litellm_refuses_them() {
        let group = [deployment("a", &["teamA"]), deployment("b", &["teamB"])];
        let error = ids(&group, &query(&["paid", "it's"]), ON).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Authentication);
        assert_eq!(error.status_code(), 401);
        assert_eq!(
            error.message(),
            "Not allowed to access model due to tags configuration. Passed model=gpt and tags=['paid', \"it's\"]"
        );
    }

    #[test]
    fn filtering_off_ignores_tags() {
        let group = [deployment("a", &["teamA"]), deployment("d", &["default"])];
        let off = TagPolicy {
            enabled: false,
            match_any: true,
        };
        assert_eq!(ids(&group, &query(&["teamB"]), off).unwrap(), ["a", "d"]);
        assert_eq!(ids(&group, &query(&[]), off).unwrap(), ["a", "d"]);
        // A deployment's model_info turns it on for its group only.
        let config: DeploymentConfig = serde_json::from_value(json!({
            "model_name": "gpt",
            "litellm_params": {"model": "openai/gpt-4o", "tags": ["teamB"]},
            "model_info": {"id": "b", "enable_tag_filtering": true},
        }))
        .unwrap();
        let b = Arc::new(Deployment::from_config(&config, "model_list[2]").unwrap());
        let group = [group[0].clone(), group[1].clone(), b];
        assert_eq!(ids(&group, &query(&["teamB"]), off).unwrap(), ["b"]);
    }

    #[test]
    fn exclusions_requirements_and_the_routing_prefix() {
        let group = [
            deployment("oa", &["provider:openai", "eu"]),
            deployment("an", &["provider:anthropic", "eu"]),
            deployment("us", &["provider:openai", "default"]),
        ];
        // Only `!` tags choose among the default deployments: here none is left.
        let error = ids(&group, &query(&["!provider:openai"]), ON).unwrap_err();
        assert_eq!(error.status_code(), 401, "{error}");
        assert_eq!(ids(&group, &query(&["&eu"]), ON).unwrap(), ["oa", "an"]);
        assert_eq!(
            ids(&group, &query(&["&eu", "!provider:anthropic"]), ON).unwrap(),
            ["oa"]
        );
        assert_eq!(
            ids(&group, &query(&["eu", "!provider:openai"]), ON).unwrap(),
            ["an"]
        );
        // An unknown tag goes to the defaults; with the prefix it is a routing tag, refused.
        assert_eq!(ids(&group, &query(&["gpu"]), ON).unwrap(), ["us"]);
        let prefixed = TagQuery::new(&["route:gpu".to_owned()], "route:");
        assert!(ids(&group, &prefixed, ON).is_err());
        let prefixed = TagQuery::new(&["route:eu".to_owned(), "user:1".to_owned()], "route:");
        assert_eq!(ids(&group, &prefixed, ON).unwrap(), ["oa", "an"]);
        // Lone markers say nothing.
        assert!(query(&["!", "&"]).is_empty());
    }
}
