//! W3C Trace Context (`traceparent`, <https://www.w3.org/TR/trace-context/#traceparent-header>):
//! `version-trace_id-parent_id-flags`, lowercase hex, 2-32-16-2 digits.

/// A caller's trace context, put into `Call::extensions` by the edge that received the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceParent {
    pub trace_id: u128,
    pub parent_span_id: u64,
    pub sampled: bool,
}

impl TraceParent {
    /// Parse a `traceparent` header value; `None` when it is malformed or all-zero (the spec
    /// says to ignore such a header and start a new trace).
    #[must_use]
    pub fn parse(value: &str) -> Option<Self> {
        let mut parts = value.trim().split('-');
        let version = parts.next()?;
        let trace_id = parts.next()?;
        let parent = parts.next()?;
        let flags = parts.next()?;
        if version.len() != 2 || version == "ff" || trace_id.len() != 32 || parent.len() != 16 {
            return None;
        }
        // Version 00 has exactly four fields; later versions may append more.
        if version == "00" && parts.next().is_some() {
            return None;
        }
        let hex = |s: &str| {
            s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        };
        if !hex(version) || !hex(trace_id) || !hex(parent) || flags.len() != 2 || !hex(flags) {
            return None;
        }
        let trace_id = u128::from_str_radix(trace_id, 16).ok()?;
        let parent_span_id = u64::from_str_radix(parent, 16).ok()?;
        let flags = u8::from_str_radix(flags, 16).ok()?;
        if trace_id == 0 || parent_span_id == 0 {
            return None;
        }
        Some(Self {
            trace_id,
            parent_span_id,
            sampled: flags & 1 == 1,
        })
    }
}

/// The ids of a call's own span, fixed before it goes upstream so the upstream request can
/// carry them (`traceparent`) and the exported span has them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpanIds {
    pub trace_id: u128,
    pub span_id: u64,
    pub sampled: bool,
}

impl SpanIds {
    /// New ids for a call: the caller's trace when it sent one, else `trace_id` (the call's).
    #[must_use]
    pub fn for_call(parent: Option<&TraceParent>, trace_id: u128) -> Self {
        let span_id = loop {
            let id: u64 = rand::random();
            if id != 0 {
                break id;
            }
        };
        Self {
            trace_id: parent.map_or(trace_id, |p| p.trace_id),
            span_id,
            sampled: parent.is_none_or(|p| p.sampled),
        }
    }

    /// The `traceparent` value naming this span as the parent.
    #[must_use]
    pub fn header(&self) -> String {
        format!(
            "00-{:032x}-{:016x}-{:02x}",
            self.trace_id,
            self.span_id,
            u8::from(self.sampled)
        )
    }
}

/// A call's trace id when it has no caller context: its `litellm_trace_id` or call id when
/// that is a UUID, else random.
#[must_use]
pub fn trace_id_of(id: &str) -> u128 {
    uuid::Uuid::parse_str(id)
        .map(|id| id.as_u128())
        .ok()
        .filter(|id| *id != 0)
        .unwrap_or_else(|| rand::random::<u128>() | 1)
}

#[cfg(test)]
mod tests {
    use super::TraceParent;

    #[test]
    fn parses_the_spec_example_and_refuses_bad_values() {
        let parsed =
            TraceParent::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").unwrap();
        assert_eq!(parsed.trace_id, 0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736);
        assert_eq!(parsed.parent_span_id, 0x00f0_67aa_0ba9_02b7);
        assert!(parsed.sampled);
        let ids = super::SpanIds::for_call(Some(&parsed), 7);
        assert_eq!(ids.trace_id, parsed.trace_id);
        assert_eq!(
            TraceParent::parse(&ids.header()).unwrap().parent_span_id,
            ids.span_id
        );
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
        ] {
            assert_eq!(TraceParent::parse(bad), None, "{bad}");
        }
    }
}
