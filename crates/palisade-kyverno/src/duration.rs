//! Go's `time.Duration`: `time.ParseDuration` and `Duration.String`, which Kyverno uses for
//! pattern values (tried before quantities: `300ms`, `-1.5h`, `2h45m`), condition operators,
//! and JMESPath duration arithmetic and time functions.

const NANOSECOND: u64 = 1;
const MICROSECOND: u64 = 1_000;
const MILLISECOND: u64 = 1_000_000;
const SECOND: u64 = 1_000_000_000;
const MINUTE: u64 = 60 * SECOND;
const HOUR: u64 = 60 * MINUTE;

/// A signed number of nanoseconds, as Go's `time.Duration`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Duration(pub(crate) i64);

/// `time.ParseDuration`: `[-+]?([0-9]*(\.[0-9]*)?[a-z]+)+`, or `0`.
pub(crate) fn parse(text: &str) -> Result<Duration, String> {
    let invalid = || format!("time: invalid duration \"{text}\"");
    let mut rest = text;
    let negative = match rest.as_bytes().first() {
        Some(b'-') => {
            rest = &rest[1..];
            true
        }
        Some(b'+') => {
            rest = &rest[1..];
            false
        }
        _ => false,
    };
    if rest == "0" {
        return Ok(Duration(0));
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total: u64 = 0;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let whole: u64 = if digits == 0 { 0 } else { rest[..digits].parse().map_err(|_| invalid())? };
        rest = &rest[digits..];
        let (mut fraction, mut scale, mut fraction_digits) = (0u64, 1f64, 0);
        if let Some(after_point) = rest.strip_prefix('.') {
            rest = after_point;
            fraction_digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            let mut overflowed = false;
            for digit in rest[..fraction_digits].bytes() {
                if overflowed {
                    continue;
                }
                match fraction.checked_mul(10).and_then(|f| f.checked_add(u64::from(digit - b'0'))) {
                    Some(next) if next <= 1 << 63 => {
                        fraction = next;
                        scale *= 10.0;
                    }
                    _ => overflowed = true,
                }
            }
            rest = &rest[fraction_digits..];
        }
        if digits == 0 && fraction_digits == 0 {
            return Err(invalid());
        }
        let unit_length = rest.find(|c: char| c == '.' || c.is_ascii_digit()).unwrap_or(rest.len());
        let unit = match &rest[..unit_length] {
            "ns" => NANOSECOND,
            "us" | "\u{b5}s" | "\u{3bc}s" => MICROSECOND,
            "ms" => MILLISECOND,
            "s" => SECOND,
            "m" => MINUTE,
            "h" => HOUR,
            "" => return Err(format!("time: missing unit in duration \"{text}\"")),
            other => return Err(format!("time: unknown unit \"{other}\" in duration \"{text}\"")),
        };
        rest = &rest[unit_length..];
        let mut value = whole.checked_mul(unit).filter(|v| *v <= 1 << 63).ok_or_else(invalid)?;
        if fraction > 0 {
            value += (fraction as f64 * (unit as f64 / scale)) as u64;
            if value > 1 << 63 {
                return Err(invalid());
            }
        }
        total = total.checked_add(value).filter(|v| *v <= 1 << 63).ok_or_else(invalid)?;
    }
    if negative {
        Ok(Duration((total as i128).wrapping_neg() as i64))
    } else if total > i64::MAX as u64 {
        Err(invalid())
    } else {
        Ok(Duration(total as i64))
    }
}

impl Duration {
    pub(crate) fn seconds(self) -> f64 {
        let whole = self.0 / SECOND as i64;
        let nanos = self.0 % SECOND as i64;
        whole as f64 + nanos as f64 / 1e9
    }

    /// The duration nearest `seconds`, saturating as Go's float-to-int conversion does not
    /// (Go's result is unspecified there; saturation at least keeps the sign).
    pub(crate) fn from_seconds(seconds: f64) -> Duration {
        Duration((seconds * SECOND as f64) as i64)
    }
}

impl std::fmt::Display for Duration {
    /// `Duration.String`: `72h3m0.5s`, `1.5ms`, `0s`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let magnitude = self.0.unsigned_abs();
        let mut text = String::new();
        if magnitude < SECOND {
            let (precision, unit) = match magnitude {
                0 => return f.write_str("0s"),
                m if m < MICROSECOND => (0, "ns"),
                m if m < MILLISECOND => (3, "\u{b5}s"),
                _ => (6, "ms"),
            };
            let (whole, fraction) = split_fraction(magnitude, precision);
            text.push_str(&whole.to_string());
            text.push_str(&fraction);
            text.push_str(unit);
        } else {
            let (seconds, fraction) = split_fraction(magnitude, 9);
            let minutes = seconds / 60;
            let hours = minutes / 60;
            if hours > 0 {
                text.push_str(&format!("{hours}h"));
            }
            if minutes > 0 {
                text.push_str(&format!("{}m", minutes % 60));
            }
            text.push_str(&format!("{}{fraction}s", seconds % 60));
        }
        if self.0 < 0 {
            f.write_str("-")?;
        }
        f.write_str(&text)
    }
}

/// `value / 10^precision` and its fraction as `.ddd` without trailing zeros (empty when zero).
fn split_fraction(value: u64, precision: u32) -> (u64, String) {
    let divisor = 10u64.pow(precision);
    let fraction = value % divisor;
    if fraction == 0 {
        return (value / divisor, String::new());
    }
    let digits = format!("{fraction:0width$}", width = precision as usize);
    (value / divisor, format!(".{}", digits.trim_end_matches('0')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_as_go() {
        for (text, printed) in [
            ("12s", "12s"),
            ("1h", "1h0m0s"),
            ("90m", "1h30m0s"),
            ("1.5h", "1h30m0s"),
            ("-1s", "-1s"),
            ("1500ms", "1.5s"),
            ("1.5ms", "1.5ms"),
            ("2us", "2\u{b5}s"),
            ("3ns", "3ns"),
            ("0", "0s"),
            ("1h1m1.001s", "1h1m1.001s"),
        ] {
            assert_eq!(parse(text).unwrap().to_string(), printed, "{text}");
        }
        for bad in ["12", "1x", "1.2.3s"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn parses_like_go() {
        let second = 1_000_000_000i64;
        let cases: &[(&str, Option<i64>)] = &[
            ("0", Some(0)),
            ("-0", Some(0)),
            ("+0", Some(0)),
            ("5s", Some(5 * second)),
            ("30s", Some(30 * second)),
            ("1478s", Some(1478 * second)),
            ("-5s", Some(-5 * second)),
            ("+5s", Some(5 * second)),
            ("5.0s", Some(5 * second)),
            ("5.6s", Some(5 * second + 600_000_000)),
            ("5.s", Some(5 * second)),
            (".5s", Some(500_000_000)),
            ("1.004s", Some(second + 4_000_000)),
            ("100.00100s", Some(100 * second + 1_000_000)),
            ("10ns", Some(10)),
            ("11us", Some(11_000)),
            ("12\u{b5}s", Some(12_000)),
            ("12\u{3bc}s", Some(12_000)),
            ("13ms", Some(13_000_000)),
            ("14s", Some(14 * second)),
            ("15m", Some(15 * 60 * second)),
            ("16h", Some(16 * 3600 * second)),
            ("3h30m", Some((3 * 3600 + 30 * 60) * second)),
            ("10.5s4m", Some(4 * 60 * second + 10 * second + 500_000_000)),
            ("-2m3.4s", Some(-(2 * 60 * second + 3 * second + 400_000_000))),
            ("1h2m3s4ms5us6ns", Some(3600 * second + 2 * 60 * second + 3 * second + 4_000_000 + 5_000 + 6)),
            ("39h9m14.425s", Some(39 * 3600 * second + 9 * 60 * second + 14 * second + 425_000_000)),
            ("52763797000ns", Some(52_763_797_000)),
            ("0.3333333333333333333h", Some(20 * 60 * second)),
            ("9007199254740993ns", Some(9_007_199_254_740_993)),
            ("9223372036854775807ns", Some(i64::MAX)),
            ("9223372036854775.807us", Some(i64::MAX)),
            ("9223372036s854ms775us807ns", Some(i64::MAX)),
            ("-9223372036854775808ns", Some(i64::MIN)),
            ("-9223372036854775.808us", Some(i64::MIN)),
            ("0.100000000000000000000h", Some(6 * 60 * second)),
            ("0.830103483285477580700h", Some(49 * 60 * second + 48_372_539_827)),
            ("", None),
            ("3", None),
            ("-", None),
            ("s", None),
            (".", None),
            ("-.", None),
            (".s", None),
            ("+.s", None),
            ("1d", None),
            ("\u{b5}s", None),
            ("9223372036854775808ns", None),
            ("9223372036854775.808us", None),
            ("9223372036854ms775us808ns", None),
            ("9223372036854775808000ns", None),
            ("10 s", None),
        ];
        for (text, expected) in cases {
            assert_eq!(parse(text).ok(), expected.map(Duration), "{text:?}");
        }
    }
}
