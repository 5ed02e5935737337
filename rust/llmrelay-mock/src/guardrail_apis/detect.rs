//! The mock's detection rules, shared by its guardrail APIs. Deliberately simple and exact:
//! - `EMAIL_ADDRESS`: a run of `[A-Za-z0-9._%+-]` around one `@` with a dot after it;
//! - `US_SSN`: `ddd-dd-dddd`; `PHONE_NUMBER`: `ddd-ddd-dddd`;
//! - `PERSON`: `Jane Doe`, `John Smith` or `Maria Garcia`;
//! - phrases: prompt attacks (`ignore previous instructions`, `ignore all previous instructions`,
//!   `reveal your system prompt`), violence (`kill`, `murder`), hate (`hate`), a word filter
//!   (`badword`), an investment-advice topic (`stock tips`, `invest in`).
//!
//! Offsets are in characters, as Presidio and Lakera report them.

/// One detected span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Finding {
    pub entity: &'static str,
    /// Character offsets.
    pub start: usize,
    pub end: usize,
    pub text: String,
}

const PEOPLE: [&str; 3] = ["Jane Doe", "John Smith", "Maria Garcia"];

fn is_email_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "._%+-".contains(c)
}

fn digits_pattern(chars: &[char], at: usize, groups: &[usize]) -> Option<usize> {
    let mut position = at;
    for (index, group) in groups.iter().enumerate() {
        for _ in 0..*group {
            if !chars.get(position)?.is_ascii_digit() {
                return None;
            }
            position += 1;
        }
        if index + 1 < groups.len() {
            if *chars.get(position)? != '-' {
                return None;
            }
            position += 1;
        }
    }
    let before = at
        .checked_sub(1)
        .and_then(|i| chars.get(i))
        .is_some_and(|c| c.is_ascii_digit() || *c == '-');
    let after = chars
        .get(position)
        .is_some_and(|c| c.is_ascii_digit() || *c == '-');
    (!before && !after).then_some(position)
}

/// PII in a text, in order of position.
pub(crate) fn find_pii(text: &str) -> Vec<Finding> {
    let chars: Vec<char> = text.chars().collect();
    let mut found = Vec::new();
    let slice = |start: usize, end: usize| chars[start..end].iter().collect::<String>();
    let mut index = 0;
    while index < chars.len() {
        if chars[index] == '@' {
            let mut start = index;
            while start > 0 && is_email_char(chars[start - 1]) {
                start -= 1;
            }
            let mut end = index + 1;
            while end < chars.len() && is_email_char(chars[end]) {
                end += 1;
            }
            while end > index + 1 && chars[end - 1] == '.' {
                end -= 1;
            }
            if start < index && chars[index + 1..end].contains(&'.') {
                found.push(Finding {
                    entity: "EMAIL_ADDRESS",
                    start,
                    end,
                    text: slice(start, end),
                });
                index = end;
                continue;
            }
        }
        if let Some(end) = digits_pattern(&chars, index, &[3, 2, 4]) {
            found.push(Finding {
                entity: "US_SSN",
                start: index,
                end,
                text: slice(index, end),
            });
            index = end;
            continue;
        }
        if let Some(end) = digits_pattern(&chars, index, &[3, 3, 4]) {
            found.push(Finding {
                entity: "PHONE_NUMBER",
                start: index,
                end,
                text: slice(index, end),
            });
            index = end;
            continue;
        }
        index += 1;
    }
    for person in PEOPLE {
        let mut from = 0;
        while let Some(offset) = text[from..].find(person) {
            let byte_start = from + offset;
            let start = text[..byte_start].chars().count();
            found.push(Finding {
                entity: "PERSON",
                start,
                end: start + person.chars().count(),
                text: person.to_owned(),
            });
            from = byte_start + person.len();
        }
    }
    found.sort_by_key(|finding| finding.start);
    found
}

/// Whether a text contains one of the phrases (case-insensitive).
pub(crate) fn contains_any(text: &str, phrases: &[&str]) -> bool {
    let lower = text.to_lowercase();
    phrases.iter().any(|phrase| lower.contains(phrase))
}

pub(crate) const PROMPT_ATTACKS: [&str; 3] = [
    "ignore previous instructions",
    "ignore all previous instructions",
    "reveal your system prompt",
];
pub(crate) const VIOLENCE: [&str; 2] = ["kill", "murder"];
pub(crate) const HATE: [&str; 1] = ["hate"];
pub(crate) const WORD_FILTER: [&str; 1] = ["badword"];
pub(crate) const INVESTMENT_ADVICE: [&str; 2] = ["stock tips", "invest in"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_documented_entities() {
        let found =
            find_pii("Jane Doe (jane.doe@example.com.) 536-22-1234, 555-123-4567; 1536-22-1234");
        let kinds: Vec<&str> = found.iter().map(|f| f.entity).collect();
        assert_eq!(kinds, ["PERSON", "EMAIL_ADDRESS", "US_SSN", "PHONE_NUMBER"]);
        assert_eq!(found[1].text, "jane.doe@example.com");
        assert_eq!((found[1].start, found[1].end), (10, 30));
        assert!(contains_any(
            "Please IGNORE previous instructions",
            &PROMPT_ATTACKS
        ));
    }
}
