//! Checksums and validity rules of numbered identifiers: Luhn, IBAN (ISO 13616, mod 97), US SSN ranges.

/// Luhn (mod 10) over ASCII digits.
pub(crate) fn luhn_valid(digits: &[u8]) -> bool {
    if digits.is_empty() {
        return false;
    }
    let mut sum = 0u32;
    for (position, digit) in digits.iter().rev().enumerate() {
        let mut value = u32::from(digit - b'0');
        if position % 2 == 1 {
            value *= 2;
            if value > 9 {
                value -= 9;
            }
        }
        sum += value;
    }
    sum % 10 == 0
}

/// Card number prefixes (issuer identification numbers) and the lengths each network issues.
pub(crate) fn card_prefix_valid(digits: &[u8]) -> bool {
    let length = digits.len();
    let prefix = |count: usize| -> u32 {
        digits
            .iter()
            .take(count)
            .fold(0u32, |value, digit| value * 10 + u32::from(digit - b'0'))
    };
    let first = prefix(1);
    let two = prefix(2);
    let three = prefix(3);
    let four = prefix(4);
    match first {
        // Visa.
        4 => matches!(length, 13 | 16 | 19),
        // Mastercard (51–55, 2221–2720).
        5 if (51..=55).contains(&two) => length == 16,
        2 if (2221..=2720).contains(&four) => length == 16,
        // American Express.
        3 if two == 34 || two == 37 => length == 15,
        // JCB (35xx; test generators also issue 3500–3527), and its 15-digit 2131 / 1800 ranges.
        3 if two == 35 => (16..=19).contains(&length),
        2 | 1 if four == 2131 || four == 1800 => length == 15,
        // Diners Club.
        3 if (300..=305).contains(&three) || two == 36 || two == 38 || two == 39 => {
            (14..=19).contains(&length)
        }
        // Discover, UnionPay, Maestro.
        6 if four == 6011 || two == 65 || (644..=649).contains(&three) => {
            (16..=19).contains(&length)
        }
        6 if two == 62 => (16..=19).contains(&length),
        6 if four == 6304 || four == 6390 || two == 67 => (12..=19).contains(&length),
        0 if four == 604 => (12..=19).contains(&length),
        5 if four == 5018 || four == 5020 || four == 5038 || (56..=58).contains(&two) => {
            (12..=19).contains(&length)
        }
        _ => false,
    }
}

/// IBAN lengths per country (ISO 13616 registry).
const IBAN_LENGTHS: [(&str, usize); 89] = [
    ("AD", 24),
    ("AE", 23),
    ("AL", 28),
    ("AT", 20),
    ("AZ", 28),
    ("BA", 20),
    ("BE", 16),
    ("BG", 22),
    ("BH", 22),
    ("BI", 27),
    ("BR", 29),
    ("BY", 28),
    ("CH", 21),
    ("CR", 22),
    ("CY", 28),
    ("CZ", 24),
    ("DE", 22),
    ("DJ", 27),
    ("DK", 18),
    ("DO", 28),
    ("EE", 20),
    ("EG", 29),
    ("ES", 24),
    ("FI", 18),
    ("FK", 18),
    ("FO", 18),
    ("FR", 27),
    ("GB", 22),
    ("GE", 22),
    ("GI", 23),
    ("GL", 18),
    ("GR", 27),
    ("GT", 28),
    ("HR", 21),
    ("HU", 28),
    ("IE", 22),
    ("IL", 23),
    ("IQ", 23),
    ("IS", 26),
    ("IT", 27),
    ("JO", 30),
    ("KW", 30),
    ("KZ", 20),
    ("LB", 28),
    ("LC", 32),
    ("LI", 21),
    ("LT", 20),
    ("LU", 20),
    ("LV", 21),
    ("LY", 25),
    ("MC", 27),
    ("MD", 24),
    ("ME", 22),
    ("MK", 19),
    ("MN", 20),
    ("MR", 27),
    ("MT", 31),
    ("MU", 30),
    ("NI", 28),
    ("NL", 18),
    ("NO", 15),
    ("OM", 23),
    ("PK", 24),
    ("PL", 28),
    ("PS", 29),
    ("PT", 25),
    ("QA", 29),
    ("RO", 24),
    ("RS", 22),
    ("RU", 33),
    ("SA", 24),
    ("SC", 31),
    ("SD", 18),
    ("SE", 24),
    ("SI", 19),
    ("SK", 24),
    ("SM", 27),
    ("SO", 23),
    ("ST", 25),
    ("SV", 28),
    ("TL", 23),
    ("TN", 24),
    ("TR", 26),
    ("UA", 29),
    ("VA", 22),
    ("VG", 24),
    ("XK", 20),
    ("YE", 30),
    ("MZ", 25),
];

/// The IBAN length of a country, if it issues IBANs.
pub(crate) fn iban_length(country: &str) -> Option<usize> {
    IBAN_LENGTHS
        .iter()
        .find(|(code, _)| *code == country)
        .map(|(_, length)| *length)
}

/// ISO 7064 mod 97-10 over an IBAN without spaces (uppercase letters and digits).
pub(crate) fn iban_checksum_valid(iban: &[u8]) -> bool {
    if iban.len() < 5 {
        return false;
    }
    let rearranged = iban[4..].iter().chain(iban[..4].iter());
    let mut remainder = 0u32;
    for &byte in rearranged {
        match byte {
            b'0'..=b'9' => remainder = (remainder * 10 + u32::from(byte - b'0')) % 97,
            b'A'..=b'Z' => {
                let value = u32::from(byte - b'A') + 10;
                remainder = (remainder * 100 + value) % 97;
            }
            _ => return false,
        }
    }
    remainder == 1
}

/// The rules the Social Security Administration never issues: area 000, 666 and 900–999, group
/// 00, serial 0000, one repeated digit, and numbers published as examples.
pub(crate) fn ssn_valid(digits: &[u8]) -> bool {
    if digits.len() != 9 {
        return false;
    }
    let area = &digits[..3];
    let group = &digits[3..5];
    let serial = &digits[5..];
    if area == b"000" || area == b"666" || area[0] == b'9' {
        return false;
    }
    if group == b"00" || serial == b"0000" {
        return false;
    }
    if digits.iter().all(|digit| *digit == digits[0]) {
        return false;
    }
    // The Woolworth wallet card, the Social Security card sample, and the digit sequence.
    !matches!(digits, b"078051120" | b"219099999" | b"123456789")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_and_prefixes() {
        assert!(luhn_valid(b"4111111111111111"));
        assert!(!luhn_valid(b"4111111111111112"));
        assert!(luhn_valid(b"378282246310005"));
        assert!(card_prefix_valid(b"378282246310005"));
        assert!(card_prefix_valid(b"5555555555554444"));
        assert!(card_prefix_valid(b"2223003122003222"));
        assert!(card_prefix_valid(b"6011111111111117"));
        assert!(!card_prefix_valid(b"1234567812345670"));
        assert!(!card_prefix_valid(b"411111111111111"));
        assert!(card_prefix_valid(b"213112904047962"));
    }

    #[test]
    fn ibans() {
        assert!(iban_checksum_valid(b"GB82WEST12345698765432"));
        assert!(iban_checksum_valid(b"DE89370400440532013000"));
        assert!(!iban_checksum_valid(b"DE89370400440532013001"));
        assert_eq!(iban_length("DE"), Some(22));
        assert_eq!(iban_length("US"), None);
    }

    #[test]
    fn ssn_ranges() {
        assert!(ssn_valid(b"536221234"));
        assert!(!ssn_valid(b"000221234"));
        assert!(!ssn_valid(b"666221234"));
        assert!(!ssn_valid(b"936221234"));
        assert!(!ssn_valid(b"536001234"));
        assert!(!ssn_valid(b"536220000"));
        assert!(!ssn_valid(b"111111111"));
        assert!(!ssn_valid(b"078051120"));
    }
}
