//! `output_parse_pii`: the answer's `<ENTITY_n>` tokens become the values they masked, also when
//! a token is split across stream chunks or cut off at the end of the answer.

use crate::guardrail::CallState;
use crate::rules::{Action, Label, LabeledRules, Refusal, Replacement};
use crate::scan::{Candidate, Hit, Recognizer, RecognizerSet};

/// Finds this call's tokens; a trailing prefix of a token (an answer cut by `max_tokens`) counts
/// when it is at least `min(20, token length / 2)` long, as LiteLLM's fallback does.
struct TokenRestorer {
    tokens: Vec<String>,
    longest: usize,
}

impl Recognizer for TokenRestorer {
    fn max_len(&self) -> usize {
        self.longest
    }

    fn scan(&self, haystack: &str, from: usize, out: &mut Vec<Candidate>) {
        let bytes = haystack.as_bytes();
        let mut position = from;
        while let Some(offset) = bytes
            .get(position..)
            .and_then(|rest| rest.iter().position(|b| *b == b'<'))
        {
            let start = position + offset;
            let rest = &haystack[start..];
            let mut next = start + 1;
            if let Some((label, token)) = self
                .tokens
                .iter()
                .enumerate()
                .find(|(_, token)| rest.starts_with(token.as_str()))
            {
                let end = start + token.len();
                out.push(Candidate {
                    start,
                    end,
                    hit: Some(Hit {
                        start,
                        end,
                        label,
                        score: 1.0,
                        open: None,
                    }),
                });
                next = end;
            } else if let Some((label, token)) = self
                .tokens
                .iter()
                .enumerate()
                .find(|(_, token)| token.len() > rest.len() && token.starts_with(rest))
            {
                // A token cut off by the end of the text so far.
                let minimum = 20.min(token.len() / 2);
                let end = haystack.len();
                let hit = (rest.len() >= minimum).then_some(Hit {
                    start,
                    end,
                    label,
                    score: 1.0,
                    open: None,
                });
                out.push(Candidate { start, end, hit });
                next = end;
            }
            position = next;
        }
    }
}

/// Restoring rules for the tokens this call made (`None` when it made none).
pub(crate) fn rules_for(call: &CallState) -> Option<LabeledRules> {
    let tokens = call.pii_tokens();
    if tokens.is_empty() {
        return None;
    }
    let labels = tokens
        .iter()
        .map(|(token, original)| Label {
            name: token.clone(),
            action: Action::Replace,
            replacement: Replacement::Fixed(original.clone()),
            refusal: Refusal::BlockedEntity,
            min_score: 0.0,
            report: None,
        })
        .collect();
    let longest = tokens
        .iter()
        .map(|(token, _)| token.len())
        .max()
        .unwrap_or(0);
    let restorer = TokenRestorer {
        tokens: tokens.into_iter().map(|(token, _)| token).collect(),
        longest,
    };
    Some(LabeledRules {
        set: RecognizerSet::new(vec![Box::new(restorer)]),
        labels,
        method: "token",
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::EventHook;
    use crate::info::Findings;
    use crate::rules::RuleContext;

    #[test]
    fn tokens_are_restored_and_truncated_ones_too() {
        let call = CallState::default();
        let email = call.pii_token("EMAIL_ADDRESS", "jane@example.com");
        let person = call.pii_token("PERSON", "Jane Doe");
        let rules = rules_for(&call).unwrap();
        let context = RuleContext {
            name: "pii",
            hook: EventHook::PostCall,
            call: &call,
        };
        let mut text =
            format!("Dear {person}, we wrote to {email} and <UNKNOWN_9>. Bye <EMAIL_ADDR");
        rules
            .apply_to(&mut text, context, &mut Findings::default())
            .unwrap();
        assert_eq!(
            text,
            "Dear Jane Doe, we wrote to jane@example.com and <UNKNOWN_9>. Bye jane@example.com"
        );
        let mut short = "end <EM".to_owned();
        rules
            .apply_to(&mut short, context, &mut Findings::default())
            .unwrap();
        assert_eq!(short, "end <EM");
        assert!(rules_for(&CallState::default()).is_none());
    }
}
