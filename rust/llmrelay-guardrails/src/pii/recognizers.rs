//! The built-in PII recognizers, under Presidio's entity names. Each is a bounded regex plus a
//! validator (checksums, ranges, and the characters around the match).

use crate::scan::{
    Candidate, Hit, Recognizer, RegexRecognizer, Terminator, char_at, char_before, floor_boundary,
    next_char,
};

use super::checksum::{card_prefix_valid, iban_checksum_valid, iban_length, luhn_valid, ssn_valid};

/// The entities the built-in engine detects.
pub const ENTITIES: [&str; 8] = [
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "CREDIT_CARD",
    "IBAN_CODE",
    "US_SSN",
    "IP_ADDRESS",
    "URL",
    "PERSON",
];

fn is_alnum(c: char) -> bool {
    c.is_alphanumeric()
}

fn prev_is(text: &str, index: usize, reject: impl Fn(char) -> bool) -> bool {
    char_before(text, index).is_some_and(reject)
}

fn next_is(text: &str, index: usize, reject: impl Fn(char) -> bool) -> bool {
    char_at(text, index).is_some_and(reject)
}

/// A separator followed by a digit continues a number (`…1234-5`, `…1.2`).
fn continues_number(text: &str, index: usize) -> bool {
    matches!(char_at(text, index), Some('-' | '.' | '/'))
        && char_at(text, index + 1).is_some_and(|c| c.is_ascii_digit())
}

fn email(text: &str, start: usize, end: usize) -> Option<(usize, usize)> {
    if prev_is(text, start, |c| is_alnum(c) || "._%+-@/".contains(c)) {
        return None;
    }
    // `scheme://user:password@host` is a URL's user info, not an address (`mailto:` is one).
    if char_before(text, start) == Some(':')
        && !text[..start].to_ascii_lowercase().ends_with("mailto:")
    {
        return None;
    }
    let candidate = &text[start..end];
    let (local, _) = candidate.split_once('@')?;
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return None;
    }
    if next_is(text, end, |c| {
        is_alnum(c) || c == '-' || c == '_' || c == '@'
    }) {
        return None;
    }
    if char_at(text, end) == Some('.') && char_at(text, end + 1).is_some_and(is_alnum) {
        return None;
    }
    Some((start, end))
}

fn digit_count(text: &str) -> usize {
    text.bytes().filter(u8::is_ascii_digit).count()
}

fn phone(text: &str, start: usize, end: usize) -> Option<(usize, usize)> {
    if prev_is(text, start, |c| is_alnum(c) || "+-#/._".contains(c)) {
        return None;
    }
    if next_is(text, end, is_alnum) || continues_number(text, end) {
        return None;
    }
    let candidate = &text[start..end];
    let number = candidate
        .split_once(['x', 'e'])
        .map_or(candidate, |(number, _)| number);
    let digits = digit_count(number);
    let international = candidate.starts_with('+') && !candidate.starts_with("+1");
    let range = if international { 8..=15 } else { 10..=14 };
    range.contains(&digits).then_some((start, end))
}

/// The cue must start a word; the digits must not continue.
fn phone_after_cue(text: &str, start: usize, end: usize) -> Option<(usize, usize)> {
    if prev_is(text, start, is_alnum) || next_is(text, end, is_alnum) || continues_number(text, end)
    {
        return None;
    }
    Some((start, end))
}

fn credit_card(text: &str, start: usize, end: usize) -> Option<(usize, usize)> {
    // `#1234…` is an id (order, ticket), not a card.
    if prev_is(text, start, |c| {
        is_alnum(c) || c == '-' || c == '.' || c == '#'
    }) {
        return None;
    }
    let bytes = text.as_bytes();
    // Groups of digits and the separator between them (one kind per number).
    let mut groups: Vec<(usize, usize)> = Vec::new();
    let mut separator: Option<u8> = None;
    let mut group_start = start;
    for (index, &byte) in bytes.iter().enumerate().take(end).skip(start) {
        if byte.is_ascii_digit() {
            continue;
        }
        if separator.is_some_and(|sep| sep != byte) {
            break;
        }
        separator = Some(byte);
        groups.push((group_start, index));
        group_start = index + 1;
    }
    if group_start < end && bytes.get(group_start).is_some_and(u8::is_ascii_digit) {
        let mut group_end = group_start;
        while group_end < end && bytes[group_end].is_ascii_digit() {
            group_end += 1;
        }
        groups.push((group_start, group_end));
    }
    let grouped = groups.len() > 1;
    // The longest run of whole groups that is a valid card number.
    for count in (1..=groups.len()).rev() {
        let used = &groups[..count];
        if grouped && (count < 2 || used.iter().any(|(s, e)| !(3..=6).contains(&(e - s)))) {
            continue;
        }
        let number_end = used[count - 1].1;
        let digits: Vec<u8> = bytes[start..number_end]
            .iter()
            .copied()
            .filter(u8::is_ascii_digit)
            .collect();
        if !(12..=19).contains(&digits.len()) {
            continue;
        }
        if next_is(text, number_end, |c| {
            c.is_ascii_digit() || c.is_alphabetic()
        }) {
            continue;
        }
        if number_end == end && continues_number(text, end) {
            continue;
        }
        if luhn_valid(&digits) && card_prefix_valid(&digits) {
            return Some((start, number_end));
        }
        if !grouped {
            break;
        }
    }
    None
}

fn iban(text: &str, start: usize, end: usize) -> Option<(usize, usize)> {
    if prev_is(text, start, is_alnum) {
        return None;
    }
    let length = iban_length(&text[start..start + 2])?;
    let bytes = text.as_bytes();
    let mut compact = Vec::with_capacity(length);
    let mut index = start;
    while index < end && compact.len() < length {
        let byte = bytes[index];
        if byte != b' ' {
            compact.push(byte);
        }
        index += 1;
    }
    if compact.len() < length || next_is(text, index, is_alnum) {
        return None;
    }
    iban_checksum_valid(&compact).then_some((start, index))
}

fn ssn(text: &str, start: usize, end: usize) -> Option<(usize, usize)> {
    if prev_is(text, start, |c| is_alnum(c) || "-./".contains(c)) {
        return None;
    }
    if next_is(text, end, is_alnum) || continues_number(text, end) {
        return None;
    }
    let digits: Vec<u8> = text[start..end]
        .bytes()
        .filter(u8::is_ascii_digit)
        .collect();
    ssn_valid(&digits).then_some((start, end))
}

/// Words before a dotted quad that make it a version number, not an address.
const VERSION_WORDS: [&str; 5] = ["version ", "release ", "build ", "firmware ", "ver "];

fn ipv4(text: &str, start: usize, end: usize) -> Option<(usize, usize)> {
    if prev_is(text, start, |c| is_alnum(c) || c == '.' || c == '_') {
        return None;
    }
    // Four octets of 0-255 without leading zeros.
    let octets_ok = text[start..end].split('.').all(|octet| {
        octet.parse::<u16>().is_ok_and(|value| value <= 255)
            && (octet.len() == 1 || !octet.starts_with('0'))
    });
    if !octets_ok {
        return None;
    }
    if next_is(text, end, is_alnum) || continues_number(text, end) {
        return None;
    }
    let before = &text[floor_boundary(text, start.saturating_sub(10))..start];
    let before = before.to_ascii_lowercase();
    if VERSION_WORDS.iter().any(|word| before.ends_with(word)) {
        return None;
    }
    Some((start, end))
}

fn ipv6(text: &str, start: usize, end: usize) -> Option<(usize, usize)> {
    let address_char = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':' || c == '.';
    if prev_is(text, start, address_char)
        || next_is(text, end, |c| {
            c.is_ascii_alphanumeric() || c == '_' || c == ':'
        })
    {
        return None;
    }
    let candidate = &text[start..end];
    if candidate.bytes().filter(|b| *b == b':').count() < 2 || candidate == "::" {
        return None;
    }
    candidate
        .parse::<std::net::Ipv6Addr>()
        .ok()
        .map(|_| (start, end))
}

/// Common capitalized words that follow name cues without being names.
const NOT_NAMES: &[&str] = &[
    "The",
    "This",
    "That",
    "There",
    "Here",
    "These",
    "Those",
    "Not",
    "Happy",
    "Sorry",
    "Glad",
    "Going",
    "Able",
    "Just",
    "Very",
    "So",
    "Also",
    "Customer",
    "Customers",
    "Team",
    "All",
    "Sir",
    "Madam",
    "Friend",
    "Friends",
    "Colleague",
    "Colleagues",
    "Everyone",
    "Support",
    "Admin",
    "User",
    "Users",
    "Manager",
    "English",
    "Available",
    "Interested",
    "Writing",
    "Looking",
    "Sure",
    "Ready",
    "Back",
    "Done",
    "New",
    "Your",
    "Our",
    "My",
    "Hiring",
    "Valued",
    "Member",
    "Client",
    "Partner",
    "Human",
    "Assistant",
    "Bot",
    "Unknown",
    "Optional",
    "Required",
    "None",
    "Please",
    "Thank",
    "World",
    "Everybody",
    "Folks",
    "Guys",
    "Thanks",
    "Welcome",
    "Good",
    "Morning",
];

/// The part of a matched name that is a name: words up to the first common word (`Jane Doe
/// Member` → `Jane Doe`); `None` when fewer than `minimum_words` remain.
fn name_prefix(name: &str, minimum_words: usize) -> Option<usize> {
    let mut end = 0;
    let mut words = 0;
    for word in name.split(' ') {
        if word.is_empty() {
            continue;
        }
        if NOT_NAMES.contains(&word.trim_end_matches('.')) {
            break;
        }
        let offset = word.as_ptr() as usize - name.as_ptr() as usize;
        end = offset + word.len();
        words += 1;
    }
    (words >= minimum_words).then_some(end)
}

/// A capitalized name of one to three words (with an optional middle initial).
const NAME: &str = r"([A-Z](?:[a-z]{0,3}[A-Z][a-z]{1,20}|[a-z]{1,20}|'[A-Z][a-z]{1,20})(?:-[A-Z][a-z]{1,20})?(?: [A-Z]\.)?(?: [A-Z](?:[a-z]{0,3}[A-Z][a-z]{1,20}|[a-z]{1,20}|'[A-Z][a-z]{1,20})(?:-[A-Z][a-z]{1,20})?){0,2})";

/// Cues after which a name needs two words (`I am Happy` is not a name, `I am Ann Lee` is).
const TWO_WORD_CUES: [&str; 11] = [
    "i am",
    "i'm",
    "this is",
    "it's",
    "it is",
    "regards",
    "sincerely",
    "cheers",
    "thanks",
    "thank you",
    "best",
];

/// A name after a cue: the regex's group 1, checked against common words.
struct PersonRecognizer {
    inner: RegexRecognizer,
}

impl Recognizer for PersonRecognizer {
    fn max_len(&self) -> usize {
        self.inner.max_len()
    }

    fn prefilter_pattern(&self) -> Option<&str> {
        self.inner.prefilter_pattern()
    }

    fn scan(&self, haystack: &str, from: usize, out: &mut Vec<Candidate>) {
        let first = out.len();
        self.inner.scan(haystack, from, out);
        for candidate in &mut out[first..] {
            let start = candidate.start;
            if let Some(hit) = candidate.hit.as_mut() {
                let cue = haystack[start..hit.start].to_ascii_lowercase();
                let minimum_words = if TWO_WORD_CUES.iter().any(|two| cue.starts_with(two)) {
                    2
                } else {
                    1
                };
                match name_prefix(&haystack[hit.start..hit.end], minimum_words) {
                    Some(length) => hit.end = hit.start + length,
                    None => candidate.hit = None,
                }
            }
        }
    }
}

/// Name cues: honorifics, introductions, form labels, salutations and sign-offs.
const PERSON_CUES: [&str; 7] = [
    // `(?:\. | )` rather than `\.? ` so the engine can skip ahead to `Mr. `-like literals.
    r"(?:Mr|Mrs|Ms|Mx|Dr|Prof|Rev|Fr|Capt|Sgt|Lt|Col|Gen|Hon)(?:\. | ) ?",
    r"(?:Miss|Sir|Dame|Madam|Lady|Lord|Professor|Doctor|Judge|Officer|Detective|Senator|Governor) {1,2}",
    r"(?:[Mm]y name is|[Mm]y name's|[Nn]ame is|[Cc]all me) {1,2}",
    r"(?:I am|I'm|[Tt]his is|[Ii]t's|[Ii]t is) {1,2}",
    r"(?:Full [Nn]ame|Name|Patient|Customer|Employee|Contact|Applicant|Attn|Signed|Cardholder|Account holder) ?: {0,2}",
    r"(?:Dear|Hi|Hello|Hey) ",
    r"(?:[Rr]egards|[Ss]incerely|[Cc]heers|[Tt]hanks|[Tt]hank you|[Bb]est|[Ww]arm wishes)[,.!]? {0,2}\r?\n {0,4}",
];

fn url_path_char(c: char) -> bool {
    !c.is_whitespace() && !"<>\"'`()[]{}|\\^".contains(c)
}

/// URLs: a bounded head (scheme and host, `www.` host, or a bare domain with a common TLD); a
/// path after it is masked as it arrives, up to the first character that cannot be in a URL.
struct UrlRecognizer {
    head: regex::Regex,
    source: String,
    label: usize,
}

/// The hit of a URL head at `start..end`, if its surroundings allow one.
fn url_hit(haystack: &str, start: usize, end: usize, bare: bool, label: usize) -> Option<Hit> {
    let mut hit_end = end;
    while hit_end > start
        && matches!(
            haystack.as_bytes()[hit_end - 1],
            b'.' | b',' | b':' | b';' | b'!' | b'?'
        )
    {
        hit_end -= 1;
    }
    let prev_ok = !prev_is(haystack, start, |c| is_alnum(c) || "@.-_/:".contains(c));
    let next_ok = !next_is(haystack, end, |c| {
        is_alnum(c) || c == '_' || c == '@' || (bare && c == '-')
    });
    (prev_ok && next_ok && hit_end > start).then(|| {
        let path_follows =
            hit_end == end && matches!(char_at(haystack, end), Some('/' | '?' | '#'));
        Hit {
            start,
            end: hit_end,
            label,
            score: 0.6,
            open: path_follows.then_some(Terminator::WhileChar(url_path_char)),
        }
    })
}

impl Recognizer for UrlRecognizer {
    fn max_len(&self) -> usize {
        crate::scan::max_match_len(&self.source).unwrap_or(300)
    }

    fn scan(&self, haystack: &str, from: usize, out: &mut Vec<Candidate>) {
        let mut position = from;
        while position <= haystack.len() {
            let Some(found) = self.head.find_at(haystack, position) else {
                break;
            };
            let (start, end) = (found.start(), found.end());
            let hit = url_hit(haystack, start, end, false, self.label);
            out.push(Candidate { start, end, hit });
            position = if hit.is_some() {
                end
            } else {
                next_char(haystack, start)
            };
        }
    }
}

/// TLDs a bare domain (no scheme, no `www.`) must end with, longest first.
const BARE_TLDS: [&[u8]; 18] = [
    b"info", b"com", b"org", b"net", b"edu", b"gov", b"biz", b"dev", b"app", b"io", b"ai", b"co",
    b"us", b"uk", b"de", b"fr", b"me", b"tv",
];

/// Longest bare domain: three labels of 63 bytes, their dots, and a TLD.
const BARE_DOMAIN_MAX: usize = 3 * 64 + 4;

/// Bare domains (`docs.python.org`): found from the dot before a common TLD, back over at most
/// three labels; the byte before must not continue a word, an address or a path.
struct BareDomainRecognizer {
    label: usize,
}

impl Recognizer for BareDomainRecognizer {
    fn max_len(&self) -> usize {
        BARE_DOMAIN_MAX
    }

    fn scan(&self, haystack: &str, from: usize, out: &mut Vec<Candidate>) {
        let bytes = haystack.as_bytes();
        let label_byte = |byte: u8| byte.is_ascii_alphanumeric() || byte == b'-';
        let mut position = from;
        while let Some(offset) = bytes
            .get(position..)
            .and_then(|rest| memchr::memchr(b'.', rest))
        {
            let dot = position + offset;
            position = dot + 1;
            let tail = &bytes[dot + 1..];
            let Some(tld) = BARE_TLDS.iter().find(|tld| {
                tail.starts_with(tld)
                    && tail
                        .get(tld.len())
                        .is_none_or(|b| !b.is_ascii_alphanumeric())
            }) else {
                continue;
            };
            let end = dot + 1 + tld.len();
            // Back over up to three labels of 1-63 bytes, each starting and ending alphanumeric.
            let mut start = dot;
            let mut labels = 0;
            let mut valid = true;
            loop {
                let label_end = start;
                while start > 0 && label_end - start < 63 && label_byte(bytes[start - 1]) {
                    start -= 1;
                }
                let label = &bytes[start..label_end];
                if label.is_empty() || label[0] == b'-' || label[label.len() - 1] == b'-' {
                    valid = false;
                    break;
                }
                labels += 1;
                if labels < 3
                    && start > 1
                    && bytes[start - 1] == b'.'
                    && label_byte(bytes[start - 2])
                {
                    start -= 1;
                    continue;
                }
                break;
            }
            if !valid || start < from {
                continue;
            }
            let boundary_ok = start == 0
                || !matches!(bytes[start - 1], b'@' | b'.' | b'_' | b'/' | b':' | b'-')
                    && !bytes[start - 1].is_ascii_alphanumeric();
            let hit = if boundary_ok {
                url_hit(haystack, start, end, true, self.label)
            } else {
                None
            };
            out.push(Candidate { start, end, hit });
            if hit.is_some() {
                position = end;
            }
        }
    }
}

/// URL heads with a scheme or `www.`, as two patterns the regex engine can skip ahead in (to
/// `://` and `www.`).
const URL_HEADS: [&str; 2] = [
    r"(?:https?|ftp|HTTPS?|FTP|Https?)://[A-Za-z0-9\-._~%@:\[\]]{1,120}",
    r"(?:www|WWW|Www)\.[A-Za-z0-9\-]{1,63}(?:\.[A-Za-z0-9\-]{1,63}){1,3}",
];

/// Countries that issue IBANs, for the pattern's first two letters.
const IBAN_COUNTRIES: &str = "AD|AE|AL|AT|AZ|BA|BE|BG|BH|BI|BR|BY|CH|CR|CY|CZ|DE|DJ|DK|DO|EE|EG|ES|FI|FK|FO|FR|GB|GE|GI|GL|GR|GT|HR|HU|IE|IL|IQ|IS|IT|JO|KW|KZ|LB|LC|LI|LT|LU|LV|LY|MC|MD|ME|MK|MN|MR|MT|MU|MZ|NI|NL|NO|OM|PK|PL|PS|PT|QA|RO|RS|RU|SA|SC|SD|SE|SI|SK|SM|SO|ST|SV|TL|TN|TR|UA|VA|VG|XK|YE";

/// Builds the recognizer of one entity; `label` indexes the caller's label table.
pub(crate) fn recognizers_for(
    entity: &str,
    label: usize,
) -> Result<Vec<Box<dyn Recognizer>>, String> {
    let regex = |pattern: &str, score: f32| RegexRecognizer::new(pattern, label, score);
    Ok(match entity {
        "EMAIL_ADDRESS" => vec![Box::new(
            regex(
                r"[A-Za-z0-9._%+\-]{1,64}@(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.){1,3}[A-Za-z]{2,24}",
                1.0,
            )?
            .validated(email),
        )],
        "PHONE_NUMBER" => vec![
            // A US number, and the same with a country code in front (two patterns, so each
            // starts with few distinct bytes and the regex engine can skip ahead).
            Box::new(
                regex(
                    r"(?:\([0-9]{3}\)[ .\-]?|[0-9]{3}[ .\-])[0-9]{3}[ .\-][0-9]{4}(?: ?(?:x|ext\.?|extension) ?[0-9]{1,6})?",
                    0.75,
                )?
                .validated(phone),
            ),
            Box::new(
                regex(
                    r"(?:\+1[ .\-]?|1[ .\-]|001[ .\-])(?:\([0-9]{3}\)[ .\-]?|[0-9]{3}[ .\-])[0-9]{3}[ .\-][0-9]{4}(?: ?(?:x|ext\.?|extension) ?[0-9]{1,6})?",
                    0.75,
                )?
                .validated(phone),
            ),
            Box::new(
                regex(r"\+[1-9][0-9]{0,2}[ .\-]?(?:\(0\) ?)?[0-9]{1,4}(?:[ .\-][0-9]{2,6}){1,4}|\+[1-9][0-9]{7,14}", 0.75)?
                    .validated(phone),
            ),
            // Ten digits without separators only after a phone word (`call 5551234567`).
            Box::new(
                regex(
                    r"(?:[Pp]hone|PHONE|[Cc]all|CALL|[Tt]el|TEL|[Cc]ell|CELL|[Mm]obile|MOBILE|[Ff]ax|FAX|[Tt]ext|[Rr]each|[Cc]ontact|[Dd]ial)[^0-9\n]{0,20}([2-9][0-9]{2}[2-9][0-9]{6})",
                    0.6,
                )?
                .group(1)
                .validated(phone_after_cue),
            ),
        ],
        "CREDIT_CARD" => vec![Box::new(regex(r"[0-9](?:[ \-]?[0-9]){11,22}", 1.0)?.validated(credit_card))],
        "IBAN_CODE" => vec![Box::new(regex(&format!(r"(?:{IBAN_COUNTRIES})[0-9]{{2}}(?: ?[A-Z0-9]){{11,30}}"), 1.0)?.validated(iban))],
        "US_SSN" => vec![Box::new(
            regex(r"[0-9]{3}-[0-9]{2}-[0-9]{4}|[0-9]{3} [0-9]{2} [0-9]{4}", 0.85)?.validated(ssn),
        )],
        "IP_ADDRESS" => vec![
            Box::new(
                regex(r"[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}", 0.95)?.validated(ipv4),
            ),
            Box::new(
                regex(r"[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:\.[0-9]{1,3}){0,3}", 0.95)?.validated(ipv6),
            ),
        ],
        "URL" => {
            let mut found = URL_HEADS
                .iter()
                .map(|head| -> Result<Box<dyn Recognizer>, String> {
                    Ok(Box::new(UrlRecognizer {
                        head: regex::Regex::new(head).map_err(|error| error.to_string())?,
                        source: (*head).to_owned(),
                        label,
                    }))
                })
                .collect::<Result<Vec<_>, _>>()?;
            found.push(Box::new(BareDomainRecognizer { label }));
            found
        }
        // One regex per kind of cue: together they would be one large, slow automaton.
        "PERSON" => PERSON_CUES
            .iter()
            .map(|cue| -> Result<Box<dyn Recognizer>, String> {
                Ok(Box::new(PersonRecognizer {
                    inner: regex(&format!("{cue}{NAME}"), 0.85)?.group(1).validated(person_one_word_cue),
                }))
            })
            .collect::<Result<Vec<_>, _>>()?,
        other => return Err(format!("the built-in PII engine does not detect {other}")),
    })
}

/// The cue must start a word (so `Hint:` does not read as `Hi` + name) and the name must end one.
fn person_one_word_cue(text: &str, start: usize, end: usize) -> Option<(usize, usize)> {
    if prev_is(text, start, char::is_alphanumeric) || next_is(text, end, char::is_alphanumeric) {
        return None;
    }
    Some((start, end))
}

fn first_digits(text: &str, start: usize, end: usize) -> String {
    text[start..end]
        .bytes()
        .filter(u8::is_ascii_digit)
        .take(4)
        .map(char::from)
        .collect()
}

fn visa(text: &str, start: usize, end: usize) -> Option<(usize, usize)> {
    credit_card(text, start, end).filter(|(s, e)| first_digits(text, *s, *e).starts_with('4'))
}

fn mastercard(text: &str, start: usize, end: usize) -> Option<(usize, usize)> {
    credit_card(text, start, end).filter(|(s, e)| {
        let prefix: u32 = first_digits(text, *s, *e).parse().unwrap_or(0);
        (5100..=5599).contains(&prefix) || (2221..=2720).contains(&prefix)
    })
}

fn amex(text: &str, start: usize, end: usize) -> Option<(usize, usize)> {
    credit_card(text, start, end).filter(|(s, e)| {
        let prefix = first_digits(text, *s, *e);
        prefix.starts_with("34") || prefix.starts_with("37")
    })
}

fn discover(text: &str, start: usize, end: usize) -> Option<(usize, usize)> {
    credit_card(text, start, end).filter(|(s, e)| {
        let prefix = first_digits(text, *s, *e);
        let three: u32 = prefix.get(..3).and_then(|p| p.parse().ok()).unwrap_or(0);
        prefix == "6011" || prefix.starts_with("65") || (644..=649).contains(&three)
    })
}

fn ssn_no_dash(text: &str, start: usize, end: usize) -> Option<(usize, usize)> {
    if prev_is(text, start, is_alnum) || next_is(text, end, is_alnum) || continues_number(text, end)
    {
        return None;
    }
    ssn_valid(&text.as_bytes()[start..end]).then_some((start, end))
}

/// The content filter's prebuilt pattern names that map to these recognizers.
pub(crate) const PREBUILT: [&str; 13] = [
    "us_ssn",
    "us_ssn_no_dash",
    "email",
    "us_phone",
    "visa",
    "mastercard",
    "amex",
    "discover",
    "credit_card",
    "ipv4",
    "ipv6",
    "url",
    "iban",
];

/// A content-filter prebuilt pattern (`None` when the name is not one of [`PREBUILT`]).
pub(crate) fn prebuilt(
    name: &str,
    label: usize,
) -> Option<Result<Vec<Box<dyn Recognizer>>, String>> {
    let card = |validate: crate::scan::Validator| -> Result<Vec<Box<dyn Recognizer>>, String> {
        Ok(vec![Box::new(
            RegexRecognizer::new(r"[0-9](?:[ \-]?[0-9]){11,22}", label, 1.0)?.validated(validate),
        )])
    };
    let pick = |entity: &str, index: usize| -> Result<Vec<Box<dyn Recognizer>>, String> {
        let mut all = recognizers_for(entity, label)?;
        Ok(if index < all.len() {
            vec![all.swap_remove(index)]
        } else {
            all
        })
    };
    Some(match name {
        "us_ssn" => recognizers_for("US_SSN", label),
        "us_ssn_no_dash" => RegexRecognizer::new(r"[0-9]{9}", label, 0.5).map(|recognizer| {
            vec![Box::new(recognizer.validated(ssn_no_dash)) as Box<dyn Recognizer>]
        }),
        "email" => recognizers_for("EMAIL_ADDRESS", label),
        "us_phone" => pick("PHONE_NUMBER", 0),
        "visa" => card(visa),
        "mastercard" => card(mastercard),
        "amex" => card(amex),
        "discover" => card(discover),
        "credit_card" => recognizers_for("CREDIT_CARD", label),
        "ipv4" => pick("IP_ADDRESS", 0),
        "ipv6" => pick("IP_ADDRESS", 1),
        "url" => recognizers_for("URL", label),
        "iban" => recognizers_for("IBAN_CODE", label),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hits(entity: &str, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        for recognizer in recognizers_for(entity, 0).unwrap() {
            let mut candidates = Vec::new();
            recognizer.scan(text, 0, &mut candidates);
            for candidate in candidates {
                if let Some(hit) = candidate.hit {
                    let found = text[hit.start..hit.end].to_owned();
                    if !out.contains(&found) {
                        out.push(found);
                    }
                }
            }
        }
        out
    }

    #[test]
    fn emails() {
        assert_eq!(
            hits("EMAIL_ADDRESS", "mail jane.doe+x@mail.example.co.uk now"),
            ["jane.doe+x@mail.example.co.uk"]
        );
        assert!(hits("EMAIL_ADDRESS", "user@localhost and a..b@x.com").is_empty());
        assert_eq!(hits("EMAIL_ADDRESS", "(bob@x.org)."), ["bob@x.org"]);
        assert_eq!(hits("EMAIL_ADDRESS", "mailto:bob@x.org"), ["bob@x.org"]);
        assert!(hits("EMAIL_ADDRESS", "postgres://app:pass@db.internal/x").is_empty());
    }

    #[test]
    fn phones() {
        for number in [
            "(555) 123-4567",
            "555-123-4567",
            "+1-555-123-4567",
            "555.123.4567x123",
            "001-555-123-4567",
            "+44 20 7946 0958",
            "+14155552671",
        ] {
            assert_eq!(
                hits("PHONE_NUMBER", &format!("call {number} today")),
                [number],
                "{number}"
            );
        }
        for not_phone in [
            "2023-10-15",
            "ORD-555-123-4567",
            "12345-6789",
            "536-22-1234",
            "v1.555.123.4567",
        ] {
            assert!(
                hits("PHONE_NUMBER", &format!("see {not_phone} now")).is_empty(),
                "{not_phone}"
            );
        }
    }

    #[test]
    fn cards() {
        assert_eq!(
            hits("CREDIT_CARD", "card 4111 1111 1111 1111 ok"),
            ["4111 1111 1111 1111"]
        );
        assert_eq!(
            hits("CREDIT_CARD", "card 4111-1111-1111-1111."),
            ["4111-1111-1111-1111"]
        );
        assert_eq!(
            hits("CREDIT_CARD", "amex 378282246310005"),
            ["378282246310005"]
        );
        assert_eq!(
            hits("CREDIT_CARD", "card 4111 1111 1111 1111 2 items"),
            ["4111 1111 1111 1111"]
        );
        assert!(hits("CREDIT_CARD", "card 4111 1111 1111 1112 ok").is_empty());
        assert!(hits("CREDIT_CARD", "id 12345678901234567890123").is_empty());
        assert!(hits("CREDIT_CARD", "card 4111-1111 1111-1111").is_empty());
    }

    #[test]
    fn ibans_and_ssns() {
        assert_eq!(
            hits("IBAN_CODE", "to DE89 3704 0044 0532 0130 00 EUR"),
            ["DE89 3704 0044 0532 0130 00"]
        );
        assert_eq!(
            hits("IBAN_CODE", "GB82WEST12345698765432."),
            ["GB82WEST12345698765432"]
        );
        assert!(hits("IBAN_CODE", "DE89370400440532013001").is_empty());
        assert_eq!(hits("US_SSN", "ssn 536-22-1234."), ["536-22-1234"]);
        assert!(hits("US_SSN", "ssn 666-22-1234 or 536-00-1234 or 936-22-1234").is_empty());
    }

    #[test]
    fn ip_addresses() {
        assert_eq!(
            hits("IP_ADDRESS", "host 192.168.1.10:8080"),
            ["192.168.1.10"]
        );
        assert_eq!(
            hits("IP_ADDRESS", "v6 2001:db8::ff00:42:8329 and ::1"),
            ["2001:db8::ff00:42:8329", "::1"]
        );
        for not_ip in [
            "version 1.2.3.4",
            "v1.2.3.4",
            "1.2.3.4.5",
            "256.1.1.1",
            "12:30:45",
            "std::vector",
            "aa:bb:cc:dd:ee:ff",
        ] {
            assert!(
                hits("IP_ADDRESS", &format!("x {not_ip} y")).is_empty(),
                "{not_ip}"
            );
        }
    }

    #[test]
    fn urls_and_people() {
        assert_eq!(
            hits(
                "URL",
                "see https://example.com/a?b=1. Or www.test.org, or docs.python.org"
            ),
            ["https://example.com", "www.test.org", "docs.python.org"]
        );
        assert!(hits("URL", "mail a@example.com or read setup.py").is_empty());
        assert_eq!(
            hits("PERSON", "Ask Dr. Maria Gonzalez or Mr. O'Brien."),
            ["Maria Gonzalez", "O'Brien"]
        );
        assert_eq!(
            hits("PERSON", "Hi, my name is Jennifer. I am Happy to help."),
            ["Jennifer"]
        );
        assert_eq!(
            hits("PERSON", "Best regards,\nJohn McDonald"),
            ["John McDonald"]
        );
        assert!(hits("PERSON", "Dear Customer, Name: Optional. Hint: Use it").is_empty());
    }

    #[test]
    fn every_pattern_is_bounded() {
        for entity in ENTITIES {
            for recognizer in recognizers_for(entity, 0).unwrap() {
                assert!(
                    recognizer.max_len() <= 400,
                    "{entity}: {}",
                    recognizer.max_len()
                );
            }
        }
        assert!(recognizers_for("LOCATION", 0).is_err());
    }
}
