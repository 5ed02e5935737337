//! Bounded-length matching over text, whole or arriving in pieces, with one algorithm for both.
//!
//! A [`Recognizer`] reports *candidates*: regions it looked at, each either rejected or holding a
//! [`Hit`] (the range to replace). Every candidate is at most [`Recognizer::max_len`] bytes long
//! and is decided by its own bytes plus a few bytes of context on either side. That makes
//! streaming exact: text that cannot be part of an undecided candidate (everything before the
//! last `max_len` bytes, moved back to the start of any candidate that crosses that point) is
//! final and can be released. Whole text is the same algorithm run once with `final = true`, so
//! masking a stream chunk by chunk gives the same output as masking the whole text.
//!
//! Long secrets (private key blocks, JWTs) are handled as *open* hits: a bounded head is matched,
//! and the rest of the region up to a terminator is dropped as it arrives, never held.

use regex::{Regex, RegexSet};

/// Bytes of already-released raw text kept before the pending text, for word boundaries and
/// validators that look at the previous characters.
pub(crate) const LEFT_CONTEXT: usize = 16;

/// Bytes after a candidate its recognizer may look at (validators check the next characters).
pub(crate) const RIGHT_CONTEXT: usize = 16;

/// Where an open hit ends.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Terminator {
    /// At the end of the first match of this regex (which must not be extendable by more text:
    /// it ends with a fixed literal).
    Pattern(&'static Regex),
    /// Before the first character outside this class.
    WhileChar(fn(char) -> bool),
}

/// An accepted finding: the bytes to replace and what it is.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Hit {
    pub start: usize,
    pub end: usize,
    /// Index into the owner's label table.
    pub label: usize,
    pub score: f32,
    /// The masked region continues after `end` up to this terminator (or the end of the text).
    pub open: Option<Terminator>,
}

/// A region a recognizer looked at (`start..end`), accepted (`hit`) or rejected.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Candidate {
    pub start: usize,
    pub end: usize,
    pub hit: Option<Hit>,
}

/// Something that finds candidates in text.
pub(crate) trait Recognizer: Send + Sync {
    /// Longest candidate it can report, in bytes.
    fn max_len(&self) -> usize;
    /// Candidates starting at or after `from`; `haystack[..from]` is context only.
    fn scan(&self, haystack: &str, from: usize, out: &mut Vec<Candidate>);
    /// For recognizers whose own search is slow (no literal the regex engine can skip to), the
    /// regex every candidate matches: such patterns share one pass that tells which can match.
    fn prefilter_pattern(&self) -> Option<&str> {
        None
    }
}

/// Decides a regex match: `Some(range)` accepts it and names the bytes to replace.
pub(crate) type Validator = fn(haystack: &str, start: usize, end: usize) -> Option<(usize, usize)>;

/// A regex with an optional validator; a capture group (if given) is the part to replace.
pub(crate) struct RegexRecognizer {
    regex: Regex,
    source: String,
    label: usize,
    score: f32,
    max_len: usize,
    group: Option<usize>,
    validate: Option<Validator>,
    open: Option<Terminator>,
    slow_search: bool,
}

impl RegexRecognizer {
    /// # Errors
    /// A pattern that does not compile, or whose matches have no length bound.
    pub(crate) fn new(pattern: &str, label: usize, score: f32) -> Result<Self, String> {
        let regex = Regex::new(pattern).map_err(|error| error.to_string())?;
        let max_len = max_match_len(pattern)
            .ok_or_else(|| format!("pattern {pattern:?} has no maximum match length"))?;
        Ok(Self {
            regex,
            source: pattern.to_owned(),
            label,
            score,
            max_len,
            group: None,
            validate: None,
            open: None,
            slow_search: false,
        })
    }

    /// Like [`RegexRecognizer::new`], accepting patterns without a length bound by capping
    /// candidates at `cap` bytes (user-supplied content-filter patterns).
    pub(crate) fn new_capped(
        pattern: &str,
        label: usize,
        score: f32,
        cap: usize,
    ) -> Result<Self, String> {
        let regex = Regex::new(pattern).map_err(|error| error.to_string())?;
        let max_len = max_match_len(pattern).map_or(cap, |len| len.min(cap));
        Ok(Self {
            regex,
            source: pattern.to_owned(),
            label,
            score,
            max_len,
            group: None,
            validate: None,
            open: None,
            slow_search: false,
        })
    }

    pub(crate) fn validated(mut self, validate: Validator) -> Self {
        self.validate = Some(validate);
        self
    }

    pub(crate) fn group(mut self, group: usize) -> Self {
        self.group = Some(group);
        self
    }

    pub(crate) fn open_until(mut self, terminator: Terminator) -> Self {
        self.open = Some(terminator);
        self
    }

    /// The regex has no literal to skip to: it joins the shared prefilter pass.
    pub(crate) fn slow_search(mut self) -> Self {
        self.slow_search = true;
        self
    }
}

impl Recognizer for RegexRecognizer {
    fn max_len(&self) -> usize {
        self.max_len
    }

    fn prefilter_pattern(&self) -> Option<&str> {
        self.slow_search.then_some(self.source.as_str())
    }

    fn scan(&self, haystack: &str, from: usize, out: &mut Vec<Candidate>) {
        let mut position = from;
        while position <= haystack.len() {
            let (start, end, replace) = if let Some(group) = self.group {
                let Some(captures) = self.regex.captures_at(haystack, position) else {
                    break;
                };
                let Some(whole) = captures.get(0) else { break };
                let part = captures
                    .get(group)
                    .map_or((whole.start(), whole.end()), |m| (m.start(), m.end()));
                (whole.start(), whole.end(), part)
            } else {
                let Some(found) = self.regex.find_at(haystack, position) else {
                    break;
                };
                (found.start(), found.end(), (found.start(), found.end()))
            };
            // A capped (user) pattern may match longer than the window: cut it to the bound.
            let end = end.min(floor_boundary(haystack, start + self.max_len).max(start));
            let accepted = match self.validate {
                Some(validate) => validate(haystack, start, end).map(|(s, e)| {
                    if self.group.is_some() {
                        (replace.0.max(s), replace.1.min(e))
                    } else {
                        (s, e)
                    }
                }),
                None => Some((replace.0, replace.1.min(end))),
            };
            let hit = accepted.filter(|(s, e)| s < e).map(|(s, e)| Hit {
                start: s,
                end: e,
                label: self.label,
                score: self.score,
                open: self.open,
            });
            out.push(Candidate { start, end, hit });
            position = if hit.is_some() && end > start {
                end
            } else {
                next_char(haystack, start)
            };
        }
    }
}

/// Recognizers run together, with one prefilter pass skipping those that cannot match.
pub(crate) struct RecognizerSet {
    recognizers: Vec<Box<dyn Recognizer>>,
    prefilter: Option<RegexSet>,
    /// For each prefilter pattern, the recognizer it belongs to.
    prefilter_owner: Vec<usize>,
    max_len: usize,
}

impl RecognizerSet {
    pub(crate) fn new(recognizers: Vec<Box<dyn Recognizer>>) -> Self {
        let mut patterns = Vec::new();
        let mut prefilter_owner = Vec::new();
        for (index, recognizer) in recognizers.iter().enumerate() {
            if let Some(pattern) = recognizer.prefilter_pattern() {
                patterns.push(pattern.to_owned());
                prefilter_owner.push(index);
            }
        }
        // More than one pattern is needed for the set pass to pay off.
        let prefilter = if patterns.len() > 1 {
            RegexSet::new(&patterns).ok()
        } else {
            None
        };
        let max_len = recognizers.iter().map(|r| r.max_len()).max().unwrap_or(0);
        Self {
            recognizers,
            prefilter,
            prefilter_owner,
            max_len,
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.recognizers.is_empty()
    }

    pub(crate) fn max_len(&self) -> usize {
        self.max_len
    }

    /// The most text a stream holds back for this set.
    pub(crate) fn window(&self) -> usize {
        self.max_len + RIGHT_CONTEXT
    }

    /// All candidates at or after `from`, in recognizer order.
    pub(crate) fn candidates(&self, haystack: &str, from: usize, out: &mut Vec<Candidate>) {
        match &self.prefilter {
            Some(set) => {
                let mut run = vec![false; self.recognizers.len()];
                for (index, recognizer) in self.recognizers.iter().enumerate() {
                    if recognizer.prefilter_pattern().is_none() {
                        run[index] = true;
                    }
                }
                for matched in set.matches_at(haystack, from).iter() {
                    if let Some(&owner) = self.prefilter_owner.get(matched) {
                        run[owner] = true;
                    }
                }
                for (recognizer, run) in self.recognizers.iter().zip(run) {
                    if run {
                        recognizer.scan(haystack, from, out);
                    }
                }
            }
            None => {
                for recognizer in &self.recognizers {
                    recognizer.scan(haystack, from, out);
                }
            }
        }
    }
}

/// The longest match a pattern can have, in bytes (`None` when unbounded or invalid).
pub(crate) fn max_match_len(pattern: &str) -> Option<usize> {
    let hir = regex_syntax::Parser::new().parse(pattern).ok()?;
    hir.properties().maximum_len()
}

/// The largest char boundary at or before `index`.
pub(crate) fn floor_boundary(text: &str, index: usize) -> usize {
    if index >= text.len() {
        return text.len();
    }
    let mut index = index;
    while !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

/// The position after the character at `index` (or one past the end).
pub(crate) fn next_char(text: &str, index: usize) -> usize {
    match text.get(index..).and_then(|rest| rest.chars().next()) {
        Some(c) => index + c.len_utf8(),
        None => text.len() + 1,
    }
}

/// The character before `index`, if any.
pub(crate) fn char_before(text: &str, index: usize) -> Option<char> {
    text.get(..index).and_then(|head| head.chars().next_back())
}

/// The character at `index`, if any.
pub(crate) fn char_at(text: &str, index: usize) -> Option<char> {
    text.get(index..).and_then(|tail| tail.chars().next())
}

/// Resolves overlapping hits like Presidio: the higher score wins, then the longer hit, then the
/// earlier one (a provider key beats the generic `token=` rule; an exception phrase, longer,
/// beats the keyword inside it).
fn resolve(hits: &mut Vec<Hit>) {
    if hits.len() < 2 {
        return;
    }
    let mut ranked: Vec<Hit> = std::mem::take(hits);
    ranked.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then((b.end - b.start).cmp(&(a.end - a.start)))
            .then(a.start.cmp(&b.start))
            .then(a.label.cmp(&b.label))
    });
    for hit in ranked {
        if hits
            .iter()
            .all(|kept| hit.end <= kept.start || kept.end <= hit.start)
        {
            hits.push(hit);
        }
    }
    hits.sort_by_key(|hit| hit.start);
}

/// Writes what replaces a hit (and records it); an error stops the text (a blocking rule).
pub(crate) type HitHandler<'h, E> = dyn FnMut(&Hit, &str, usize, &mut String) -> Result<(), E> + 'h;

/// Where processing of one text stands: the next unconsumed byte, the absolute offset of the
/// text's first byte, and an open hit still being consumed.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Progress {
    pub position: usize,
    pub base: usize,
    pub open: Option<Terminator>,
}

/// Runs `set` over `raw[progress.position..]`, appending released text (with hits replaced) to
/// `out`, and moves `progress` to how far the raw text was consumed.
pub(crate) fn advance<E>(
    set: &RecognizerSet,
    raw: &str,
    progress: &mut Progress,
    is_final: bool,
    out: &mut String,
    handler: &mut HitHandler<'_, E>,
) -> Result<(), E> {
    let consumed = advance_from(
        set,
        raw,
        progress.position,
        is_final,
        &mut progress.open,
        progress.base,
        out,
        handler,
        None,
    )?;
    progress.position = consumed;
    Ok(())
}

#[expect(
    clippy::too_many_arguments,
    reason = "the loop's state, kept in locals for speed; `advance` is the entry point"
)]
fn advance_from<E>(
    set: &RecognizerSet,
    raw: &str,
    from: usize,
    is_final: bool,
    open: &mut Option<Terminator>,
    base: usize,
    out: &mut String,
    handler: &mut HitHandler<'_, E>,
    scanned: Option<Vec<Candidate>>,
) -> Result<usize, E> {
    let len = raw.len();
    let mut position = from;
    let mut scanned = scanned;
    let mut candidates = Vec::new();
    'outer: loop {
        if let Some(terminator) = *open {
            match terminator {
                Terminator::Pattern(regex) => {
                    if let Some(found) = regex.find_at(raw, position) {
                        position = found.end();
                        *open = None;
                    } else {
                        if is_final {
                            *open = None;
                            return Ok(len);
                        }
                        let keep = max_match_len(regex.as_str()).unwrap_or(64);
                        return Ok(floor_boundary(raw, len.saturating_sub(keep)).max(position));
                    }
                }
                Terminator::WhileChar(in_class) => {
                    let rest = raw.get(position..).unwrap_or("");
                    match rest.char_indices().find(|(_, c)| !in_class(*c)) {
                        Some((offset, _)) => {
                            position += offset;
                            *open = None;
                        }
                        None => {
                            if is_final {
                                *open = None;
                            }
                            return Ok(len);
                        }
                    }
                }
            }
        }
        match scanned.take() {
            // The caller already scanned from `from` (the whole-text path).
            Some(done) => candidates = done,
            None => {
                candidates.clear();
                set.candidates(raw, position, &mut candidates);
            }
        }
        let mut cut = if is_final {
            len
        } else {
            floor_boundary(raw, len.saturating_sub(set.max_len() + RIGHT_CONTEXT)).max(position)
        };
        loop {
            let mut moved = false;
            for candidate in &candidates {
                if candidate.start < cut && candidate.end > cut {
                    cut = candidate.start;
                    moved = true;
                }
            }
            if !moved {
                break;
            }
        }
        let mut hits: Vec<Hit> = candidates
            .iter()
            .filter(|candidate| candidate.end <= cut)
            .filter_map(|candidate| candidate.hit)
            .collect();
        resolve(&mut hits);
        for hit in hits {
            if hit.start < position {
                continue;
            }
            out.push_str(&raw[position..hit.start]);
            handler(&hit, &raw[hit.start..hit.end], base + hit.start, out)?;
            position = hit.end;
            if hit.open.is_some() {
                *open = hit.open;
                continue 'outer;
            }
        }
        if cut > position {
            out.push_str(&raw[position..cut]);
            position = cut;
        }
        return Ok(position);
    }
}

/// Processes a whole text; `None` when nothing was found (the text stays as it is).
pub(crate) fn process_whole<E>(
    set: &RecognizerSet,
    text: &str,
    handler: &mut HitHandler<'_, E>,
) -> Result<Option<String>, E> {
    if set.is_empty() {
        return Ok(None);
    }
    let mut candidates = Vec::new();
    set.candidates(text, 0, &mut candidates);
    if !candidates.iter().any(|candidate| candidate.hit.is_some()) {
        return Ok(None);
    }
    let mut out = String::with_capacity(text.len());
    let mut open = None;
    advance_from(
        set,
        text,
        0,
        true,
        &mut open,
        0,
        &mut out,
        handler,
        Some(candidates),
    )?;
    Ok(Some(out))
}

/// One text channel processed as it arrives.
#[derive(Debug, Default)]
pub(crate) struct TextStage {
    /// Left context followed by the pending (unreleased) text.
    raw: String,
    progress: Progress,
}

impl TextStage {
    /// Adds text and releases what is final into `out`.
    pub(crate) fn push<E>(
        &mut self,
        set: &RecognizerSet,
        text: &str,
        out: &mut String,
        handler: &mut HitHandler<'_, E>,
    ) -> Result<(), E> {
        self.raw.push_str(text);
        self.run(set, false, out, handler)
    }

    /// Releases everything left (end of the text).
    pub(crate) fn flush<E>(
        &mut self,
        set: &RecognizerSet,
        out: &mut String,
        handler: &mut HitHandler<'_, E>,
    ) -> Result<(), E> {
        self.run(set, true, out, handler)
    }

    fn run<E>(
        &mut self,
        set: &RecognizerSet,
        is_final: bool,
        out: &mut String,
        handler: &mut HitHandler<'_, E>,
    ) -> Result<(), E> {
        advance(set, &self.raw, &mut self.progress, is_final, out, handler)?;
        let keep_from = floor_boundary(
            &self.raw,
            self.progress.position.saturating_sub(LEFT_CONTEXT),
        );
        if keep_from > 0 {
            self.raw.drain(..keep_from);
            self.progress.position -= keep_from;
            self.progress.base += keep_from;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digits_set() -> RecognizerSet {
        fn not_next_to_digit(text: &str, start: usize, end: usize) -> Option<(usize, usize)> {
            let before = char_before(text, start).is_some_and(|c| c.is_ascii_digit());
            let after = char_at(text, end).is_some_and(|c| c.is_ascii_digit());
            (!before && !after).then_some((start, end))
        }
        RecognizerSet::new(vec![
            Box::new(
                RegexRecognizer::new(r"\d{4}", 0, 1.0)
                    .unwrap()
                    .validated(not_next_to_digit),
            ),
            Box::new(RegexRecognizer::new(r"[a-z]{2,6}@x", 1, 0.9).unwrap()),
        ])
    }

    fn mask_all(set: &RecognizerSet, text: &str) -> String {
        let mut handler = |hit: &Hit, _: &str, _: usize, out: &mut String| -> Result<(), ()> {
            out.push_str(if hit.label == 0 { "<N>" } else { "<E>" });
            Ok(())
        };
        process_whole(set, text, &mut handler)
            .unwrap()
            .unwrap_or_else(|| text.to_owned())
    }

    fn mask_pieces(set: &RecognizerSet, pieces: &[&str]) -> String {
        let mut handler = |hit: &Hit, _: &str, _: usize, out: &mut String| -> Result<(), ()> {
            out.push_str(if hit.label == 0 { "<N>" } else { "<E>" });
            Ok(())
        };
        let mut stage = TextStage::default();
        let mut out = String::new();
        for piece in pieces {
            stage.push(set, piece, &mut out, &mut handler).unwrap();
        }
        stage.flush(set, &mut out, &mut handler).unwrap();
        out
    }

    #[test]
    fn whole_and_pieces_agree() {
        let set = digits_set();
        let text = "pin 1234, not 12345, mail ab@x and 9876";
        let whole = mask_all(&set, text);
        assert_eq!(whole, "pin <N>, not 12345, mail <E> and <N>");
        for split in 0..text.len() {
            let (a, b) = text.split_at(split);
            assert_eq!(mask_pieces(&set, &[a, b]), whole, "split at {split}");
        }
        let bytes: Vec<String> = text.chars().map(String::from).collect();
        let pieces: Vec<&str> = bytes.iter().map(String::as_str).collect();
        assert_eq!(mask_pieces(&set, &pieces), whole);
    }

    #[test]
    fn pattern_lengths_are_measured() {
        assert_eq!(max_match_len(r"[0-9]{4}"), Some(4));
        // Unicode digits are up to 4 bytes long.
        assert_eq!(max_match_len(r"\d{4}"), Some(16));
        assert_eq!(max_match_len(r"a+"), None);
        assert!(RegexRecognizer::new(r"a+", 0, 1.0).is_err());
        assert_eq!(
            RegexRecognizer::new_capped(r"a+", 0, 1.0, 50)
                .unwrap()
                .max_len(),
            50
        );
    }

    #[test]
    fn boundaries_respect_utf8() {
        let text = "héllo";
        assert_eq!(floor_boundary(text, 2), 1);
        assert_eq!(next_char(text, 1), 3);
        assert_eq!(char_before(text, 3), Some('é'));
        assert_eq!(char_at(text, 5), Some('o'));
    }
}
