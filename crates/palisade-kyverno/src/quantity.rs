//! Kubernetes resource quantities (`k8s.io/apimachinery/pkg/api/resource`): `100Mi`, `0.5`,
//! `500m`, `1e3`, `1.5Gi`. One scanner and suffix table (`parseQuantityString` and the
//! suffixer) serve two models of the value:
//!
//! - [`ExactQuantity`] for pattern values (`>=100Mi`): every digit kept, so `Quantity.Cmp` is
//!   exact at any size, with Kubernetes' rounding to nano-units and its binary cap.
//! - [`Quantity`] for conditions and JMESPath arithmetic: `inf.Dec`'s unscaled value, scale and
//!   print format, because Kyverno's sums, products and quotients round to that scale and print
//!   in that format.
//!
//! The two differ where Kubernetes' own paths do, and are kept apart so neither caller's
//! answers change: a digitless number finer than nano (`e-10`) is an error only for
//! [`ExactQuantity`], an exponent beyond int32 is truncated by [`ExactQuantity`] and refused by
//! [`Quantity`], and [`Quantity`] is bounded by i128.

use std::cmp::Ordering;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Base {
    Decimal,
    Binary,
}

/// How a quantity was written, which decides how results print.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    /// `Ki`, `Mi`, ... (powers of 1024).
    BinarySI,
    /// `n`, `u`, `m`, `k`, `M`, ... (powers of 1000), or no suffix.
    DecimalSI,
    /// `1e3`, `5E-2`.
    DecimalExponent,
}

/// What a suffix stands for: `Mi` is 2^20, `m` is 10^-3, `e5` is 10^5.
struct Suffix {
    base: Base,
    exponent: i64,
    format: Format,
}

/// The pieces of `[sign]digits[.digits]suffix`, as Kubernetes' scanner cuts them.
struct Scanned<'a> {
    negative: bool,
    /// The integer digits without leading zeros (may be empty).
    whole: &'a [u8],
    fraction: &'a [u8],
    /// Whether the number before the suffix had any digit at all (`.5` does, `.` does not).
    has_digit: bool,
    suffix: &'a [u8],
}

/// Kubernetes' `parseQuantityString`, byte by byte: `None` where the text does not match
/// `^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$` as Kubernetes reads it.
fn scan(text: &[u8]) -> Option<Scanned<'_>> {
    if text.is_empty() {
        return None;
    }
    let negative = text[0] == b'-';
    let mut pos = usize::from(matches!(text[0], b'-' | b'+'));
    let number_start = pos;
    while text.get(pos) == Some(&b'0') {
        pos += 1;
    }
    let whole_start = pos;
    pos += count_digits(&text[pos..]);
    let whole = &text[whole_start..pos];
    let mut fraction: &[u8] = &[];
    if text.get(pos) == Some(&b'.') {
        pos += 1;
        let fraction_len = count_digits(&text[pos..]);
        fraction = &text[pos..pos + fraction_len];
        pos += fraction_len;
    }
    let has_digit = text[number_start..pos].iter().any(u8::is_ascii_digit);
    let suffix_start = pos;
    pos += text[pos..].iter().take_while(|c| b"eEinumkKMGTP".contains(c)).count();
    if matches!(text.get(pos), Some(b'-' | b'+')) {
        pos += 1;
    }
    pos += count_digits(&text[pos..]);
    if pos != text.len() {
        return None;
    }
    Some(Scanned { negative, whole, fraction, has_digit, suffix: &text[suffix_start..] })
}

fn count_digits(text: &[u8]) -> usize {
    text.iter().take_while(|c| c.is_ascii_digit()).count()
}

/// The suffixer's `interpret`. The exponent of `e` forms is read as an int64, as Kubernetes
/// reads it; each model narrows it to int32 its own way.
fn interpret_suffix(suffix: &[u8]) -> Option<Suffix> {
    let decimal = |exponent| Some(Suffix { base: Base::Decimal, exponent, format: Format::DecimalSI });
    let binary = |exponent| Some(Suffix { base: Base::Binary, exponent, format: Format::BinarySI });
    match suffix {
        b"" => decimal(0),
        b"n" => decimal(-9),
        b"u" => decimal(-6),
        b"m" => decimal(-3),
        b"k" => decimal(3),
        b"M" => decimal(6),
        b"G" => decimal(9),
        b"T" => decimal(12),
        b"P" => decimal(15),
        b"E" => decimal(18),
        b"Ki" => binary(10),
        b"Mi" => binary(20),
        b"Gi" => binary(30),
        b"Ti" => binary(40),
        b"Pi" => binary(50),
        b"Ei" => binary(60),
        [b'e' | b'E', exponent @ ..] if !exponent.is_empty() => {
            let exponent: i64 = std::str::from_utf8(exponent).ok()?.parse().ok()?;
            Some(Suffix { base: Base::Decimal, exponent, format: Format::DecimalExponent })
        }
        _ => None,
    }
}

/// `unscaled × 10^-scale`, as the `inf.Dec` Kubernetes keeps; the scale matters where Kyverno
/// rounds to it (division).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Quantity {
    pub(crate) unscaled: i128,
    pub(crate) scale: i32,
    pub(crate) format: Format,
}

/// The largest binary quantity Kubernetes keeps (`2^63 - 1`); larger ones are capped.
const MAX_ALLOWED: i128 = i64::MAX as i128;
/// Digits beyond which arithmetic gives up rather than overflow.
const MAX_SCALE: i32 = 30;

fn pow10(exponent: u32) -> Option<i128> {
    10i128.checked_pow(exponent)
}

/// `resource.ParseQuantity`, as `inf.Dec`.
pub(crate) fn parse(text: &str) -> Result<Quantity, String> {
    let format_wrong = || "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'".to_string();
    if text == "0" {
        return Ok(Quantity { unscaled: 0, scale: 0, format: Format::DecimalSI });
    }
    let scanned = scan(text.as_bytes()).ok_or_else(format_wrong)?;
    let suffix_unknown = || "unable to parse quantity's suffix".to_string();
    let Suffix { base, exponent, mut format } = interpret_suffix(scanned.suffix).ok_or_else(suffix_unknown)?;
    let exponent = i32::try_from(exponent).map_err(|_| suffix_unknown())?;
    // Kubernetes reads a number without integer digits as having the integer part `0`.
    let numerator_len = scanned.whole.len().max(1);
    let denominator_len = scanned.fraction.len();

    let digits: String = scanned.whole.iter().chain(scanned.fraction).map(|&digit| char::from(digit)).collect();
    let mut unscaled: i128 = if digits.is_empty() { 0 } else { digits.parse().map_err(|_| "quantities must be representable".to_string())? };
    let mut scale = denominator_len as i32;
    // Kubernetes takes a fast path (int64 with the suffix's exponent as scale) when the digits
    // fit; otherwise it rounds to nano precision, which fixes the scale at 9. Division rounds to
    // the scale, so the path matters.
    let fast_decimal = base == Base::Decimal && 18 - (numerator_len + denominator_len) as i32 >= 0 && exponent - scale >= -9;
    let fast_binary = base == Base::Binary
        && exponent >= 0
        && denominator_len == 0
        && 15 - numerator_len as i32 - (exponent as f32 * 3.0 / 10.0) as i32 > 0;
    match base {
        Base::Decimal => scale -= exponent,
        Base::Binary => unscaled = unscaled.checked_mul(1i128 << exponent).ok_or_else(|| "quantity too large".to_string())?,
    }
    if !(fast_decimal || fast_binary) && unscaled != 0 {
        (unscaled, scale) = round_up_to_scale(unscaled, scale, 9);
    }
    let mut quantity = Quantity { unscaled, scale, format };
    // Kubernetes caps only binary quantities.
    if format == Format::BinarySI && quantity.magnitude_exceeds(MAX_ALLOWED) {
        quantity = Quantity { unscaled: MAX_ALLOWED, scale: 0, format };
    }
    if format == Format::BinarySI && quantity.unscaled != 0 && quantity.cmp_integer(1) == Ordering::Less {
        format = Format::DecimalSI;
    }
    if scanned.negative {
        quantity.unscaled = -quantity.unscaled;
    }
    quantity.format = format;
    Ok(quantity)
}

/// `value` rounded away from zero to `target` decimal places (`inf.RoundUp`).
fn round_up_to_scale(unscaled: i128, scale: i32, target: i32) -> (i128, i32) {
    if scale <= target {
        let factor = pow10((target - scale) as u32).unwrap_or(i128::MAX);
        return match unscaled.checked_mul(factor) {
            Some(value) => (value, target),
            None => (unscaled, scale),
        };
    }
    let Some(divisor) = pow10((scale - target) as u32) else {
        return (unscaled.signum(), target);
    };
    let quotient = unscaled / divisor;
    let remainder = unscaled % divisor;
    (if remainder == 0 { quotient } else { quotient + unscaled.signum() }, target)
}

impl Quantity {
    /// This value with scale `scale` (only ever raised, so exact), or `None` on overflow.
    fn unscaled_at(&self, scale: i32) -> Option<i128> {
        if scale >= self.scale {
            self.unscaled.checked_mul(pow10((scale - self.scale) as u32)?)
        } else {
            let divisor = pow10((self.scale - scale) as u32)?;
            (self.unscaled % divisor == 0).then(|| self.unscaled / divisor)
        }
    }

    fn magnitude_exceeds(&self, limit: i128) -> bool {
        match Quantity::integer(limit).unscaled_at(self.scale.max(0)) {
            Some(scaled_limit) => self.unscaled_at(self.scale.max(0)).is_none_or(|v| v.abs() > scaled_limit),
            None => false,
        }
    }

    fn integer(value: i128) -> Quantity {
        Quantity { unscaled: value, scale: 0, format: Format::DecimalSI }
    }

    fn cmp_integer(&self, value: i128) -> Ordering {
        self.compare(&Quantity::integer(value))
    }

    pub(crate) fn is_zero(&self) -> bool {
        self.unscaled == 0
    }

    /// Numeric order; values too far apart to align compare by sign and size.
    pub(crate) fn compare(&self, other: &Quantity) -> Ordering {
        let scale = self.scale.max(other.scale);
        match (self.unscaled_at(scale), other.unscaled_at(scale)) {
            (Some(a), Some(b)) => a.cmp(&b),
            _ => self.as_f64().partial_cmp(&other.as_f64()).unwrap_or(Ordering::Equal),
        }
    }

    pub(crate) fn as_f64(&self) -> f64 {
        self.unscaled as f64 / 10f64.powi(self.scale)
    }

    /// `Quantity.Add`: the sum keeps this quantity's format (the other's when this one is zero).
    pub(crate) fn add(&self, other: &Quantity) -> Result<Quantity, String> {
        let scale = self.scale.max(other.scale);
        let overflow = || "quantity arithmetic overflowed".to_string();
        let a = self.unscaled_at(scale).ok_or_else(overflow)?;
        let b = other.unscaled_at(scale).ok_or_else(overflow)?;
        let format = if self.is_zero() { other.format } else { self.format };
        Ok(Quantity { unscaled: a.checked_add(b).ok_or_else(overflow)?, scale, format })
    }

    pub(crate) fn negated(&self) -> Quantity {
        Quantity { unscaled: -self.unscaled, ..*self }
    }

    /// The exact product, in this quantity's format.
    pub(crate) fn multiply(&self, other: &Quantity) -> Result<Quantity, String> {
        let overflow = || "quantity arithmetic overflowed".to_string();
        let scale = self.scale + other.scale;
        if scale.abs() > MAX_SCALE {
            return Err(overflow());
        }
        Ok(Quantity { unscaled: self.unscaled.checked_mul(other.unscaled).ok_or_else(overflow)?, scale, format: self.format })
    }

    /// The quotient rounded towards zero at the larger of the two scales (`inf.Dec.QuoRound`
    /// with `RoundDown`), in this quantity's format.
    pub(crate) fn divide_rounding_down(&self, divisor: &Quantity) -> Result<Quantity, String> {
        let overflow = || "quantity arithmetic overflowed".to_string();
        let scale = self.scale.max(divisor.scale);
        // self / divisor at `scale`: self.unscaled * 10^(scale + divisor.scale - self.scale) / divisor.unscaled
        let shift = scale + divisor.scale - self.scale;
        let (numerator, denominator) = if shift >= 0 {
            (self.unscaled.checked_mul(pow10(shift as u32).ok_or_else(overflow)?).ok_or_else(overflow)?, divisor.unscaled)
        } else {
            (self.unscaled, divisor.unscaled.checked_mul(pow10((-shift) as u32).ok_or_else(overflow)?).ok_or_else(overflow)?)
        };
        if denominator == 0 {
            return Err("division by zero".into());
        }
        Ok(Quantity { unscaled: numerator / denominator, scale, format: self.format })
    }

    /// The integer value, when this quantity is a whole number.
    pub(crate) fn as_integer(&self) -> Option<i128> {
        if self.scale <= 0 {
            self.unscaled.checked_mul(pow10((-self.scale) as u32)?)
        } else {
            self.unscaled_at(0)
        }
    }

    pub(crate) fn from_integer(value: i128, format: Format) -> Quantity {
        Quantity { unscaled: value, scale: 0, format }
    }
}

impl std::fmt::Display for Quantity {
    /// `Quantity.String`: the canonical form, e.g. `1536Mi`, `1500m`, `2k`, `12e3`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_zero() {
            return f.write_str("0");
        }
        let mut format = self.format;
        let mut whole = None;
        if format == Format::BinarySI {
            if self.cmp_integer(-1024) == Ordering::Greater && self.cmp_integer(1024) == Ordering::Less {
                format = Format::DecimalSI;
            } else {
                // Kubernetes rounds up to an integer first and prints decimally when that loses
                // precision.
                let (rounded, _) = round_up_to_scale(self.unscaled, self.scale, 0);
                match self.as_integer() {
                    Some(exact) if exact == rounded => whole = Some(exact),
                    _ => format = Format::DecimalSI,
                }
            }
        }
        if let (Format::BinarySI, Some(mut amount)) = (format, whole) {
            let mut exponent = 0;
            while amount != 0 && amount % 1024 == 0 {
                amount /= 1024;
                exponent += 1;
            }
            let suffix = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"].get(exponent).copied().unwrap_or("");
            return write!(f, "{amount}{suffix}");
        }
        let mut amount = self.unscaled;
        let mut exponent = -self.scale;
        while amount != 0 && amount % 10 == 0 {
            amount /= 10;
            exponent += 1;
        }
        while exponent % 3 != 0 {
            match amount.checked_mul(10) {
                Some(value) => amount = value,
                None => break,
            }
            exponent -= 1;
        }
        let suffix = match format {
            Format::DecimalExponent if exponent == 0 => String::new(),
            Format::DecimalExponent => format!("e{exponent}"),
            _ => match exponent {
                -9 => "n",
                -6 => "u",
                -3 => "m",
                3 => "k",
                6 => "M",
                9 => "G",
                12 => "T",
                15 => "P",
                18 => "E",
                _ => "",
            }
            .to_string(),
        };
        write!(f, "{amount}{suffix}")
    }
}

/// An exact decimal: `digits` × 10^`exponent`, with `digits` the magnitude's decimal digits,
/// most significant first, without leading or trailing zeros (empty for zero).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ExactQuantity {
    negative: bool,
    digits: Vec<u8>,
    exponent: i64,
}

/// Kubernetes rounds every quantity up (away from zero) to a whole number of nano-units.
const NANO_EXPONENT: i64 = -9;

/// Binary quantities are capped at this magnitude; decimal ones are not.
const MAX_BINARY: &[u8] = b"9223372036854775807";

/// `resource.ParseQuantity` with every digit kept: `None` where Kubernetes reports a parse error.
pub(crate) fn parse_exact(text: &str) -> Option<ExactQuantity> {
    let scanned = scan(text.as_bytes())?;
    let Suffix { base, exponent, .. } = interpret_suffix(scanned.suffix)?;
    // Kubernetes keeps the exponent in an int32 and truncates it silently.
    let exponent = i64::from(exponent as i32);
    // Kubernetes' slow path needs a digit to parse; the fast path (anything it can represent in
    // an int64 at nano precision or coarser) treats a digitless number as zero.
    if !scanned.has_digit && base == Base::Decimal && exponent < NANO_EXPONENT {
        return None;
    }
    let mut digits: Vec<u8> = scanned.whole.iter().chain(scanned.fraction).map(|c| c - b'0').collect();
    let mut decimal_exponent = -(scanned.fraction.len() as i64);
    match base {
        Base::Decimal => decimal_exponent += exponent,
        Base::Binary => multiply_by_power_of_two(&mut digits, exponent),
    }
    let mut quantity = ExactQuantity { negative: scanned.negative, digits, exponent: decimal_exponent };
    quantity.normalize();
    quantity.round_up_to_nano();
    if base == Base::Binary {
        quantity.cap_magnitude(MAX_BINARY);
    }
    Some(quantity)
}

fn multiply_by_power_of_two(digits: &mut Vec<u8>, exponent: i64) {
    let mut remaining = exponent;
    while remaining > 0 {
        let step = remaining.min(30);
        multiply(digits, 1u64 << step);
        remaining -= step;
    }
}

/// `digits` × `factor` in place, for factors up to 2^30 so the carry fits in a u64.
fn multiply(digits: &mut Vec<u8>, factor: u64) {
    let mut carry = 0u64;
    for digit in digits.iter_mut().rev() {
        let product = u64::from(*digit) * factor + carry;
        *digit = (product % 10) as u8;
        carry = product / 10;
    }
    let mut head = Vec::new();
    while carry > 0 {
        head.push((carry % 10) as u8);
        carry /= 10;
    }
    head.reverse();
    digits.splice(0..0, head);
}

impl ExactQuantity {
    fn zero() -> ExactQuantity {
        ExactQuantity { negative: false, digits: Vec::new(), exponent: 0 }
    }

    fn normalize(&mut self) {
        let leading = self.digits.iter().take_while(|&&d| d == 0).count();
        self.digits.drain(..leading);
        while self.digits.last() == Some(&0) {
            self.digits.pop();
            self.exponent += 1;
        }
        if self.digits.is_empty() {
            *self = ExactQuantity::zero();
        }
    }

    fn round_up_to_nano(&mut self) {
        if self.digits.is_empty() || self.exponent >= NANO_EXPONENT {
            return;
        }
        // Digits at or above the 10^-9 place; everything below is non-zero after normalize().
        let kept = self.digits.len() as i64 + self.exponent - NANO_EXPONENT;
        if kept <= 0 {
            self.digits = vec![1];
        } else {
            self.digits.truncate(kept as usize);
            increment(&mut self.digits);
        }
        self.exponent = NANO_EXPONENT;
        self.normalize();
    }

    fn cap_magnitude(&mut self, max: &[u8]) {
        let cap = ExactQuantity { negative: self.negative, digits: max.iter().map(|c| c - b'0').collect(), exponent: 0 };
        if compare_magnitude(self, &cap) == Ordering::Greater {
            *self = cap;
        }
    }
}

fn increment(digits: &mut Vec<u8>) {
    for digit in digits.iter_mut().rev() {
        if *digit < 9 {
            *digit += 1;
            return;
        }
        *digit = 0;
    }
    digits.insert(0, 1);
}

fn compare_magnitude(a: &ExactQuantity, b: &ExactQuantity) -> Ordering {
    match (a.digits.is_empty(), b.digits.is_empty()) {
        (true, true) => return Ordering::Equal,
        (true, false) => return Ordering::Less,
        (false, true) => return Ordering::Greater,
        (false, false) => {}
    }
    // Both normalized: the position of the leading digit decides, then the digits themselves.
    let a_top = a.digits.len() as i64 + a.exponent;
    let b_top = b.digits.len() as i64 + b.exponent;
    a_top.cmp(&b_top).then_with(|| a.digits.cmp(&b.digits))
}

impl Ord for ExactQuantity {
    fn cmp(&self, other: &ExactQuantity) -> Ordering {
        let sign = |q: &ExactQuantity| if q.digits.is_empty() { 0 } else if q.negative { -1 } else { 1 };
        match sign(self).cmp(&sign(other)) {
            Ordering::Equal if self.negative && !self.digits.is_empty() => compare_magnitude(other, self),
            Ordering::Equal => compare_magnitude(self, other),
            unequal => unequal,
        }
    }
}

impl PartialOrd for ExactQuantity {
    fn partial_cmp(&self, other: &ExactQuantity) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canonical(text: &str) -> String {
        parse(text).unwrap().to_string()
    }

    #[test]
    fn canonical_forms() {
        assert_eq!(canonical("12Ki"), "12Ki");
        assert_eq!(canonical("1024"), "1024");
        assert_eq!(canonical("1536Mi"), "1536Mi");
        assert_eq!(canonical("1.5Gi"), "1536Mi");
        assert_eq!(canonical("0.5Ki"), "512");
        assert_eq!(canonical("1500m"), "1500m");
        assert_eq!(canonical("1.5"), "1500m");
        assert_eq!(canonical("2000"), "2k");
        assert_eq!(canonical("12e3"), "12e3");
        assert_eq!(canonical("1.1Ki"), "1126400m");
        assert_eq!(canonical("0.1n"), "1n");
        assert_eq!(canonical("-1Ki"), "-1Ki");
    }

    #[test]
    fn malformed_quantities_are_refused() {
        for bad in ["", "abc", "12s", "1Kib", "1.2.3", "--1", "1h"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    /// The differences the module documentation names, pinned so that unifying the two models
    /// is a deliberate change.
    #[test]
    fn models_differ_where_documented() {
        assert_eq!(parse_exact("e-10"), None);
        assert!(parse("e-10").is_ok_and(|quantity| quantity.is_zero()));
        assert_eq!(parse_exact("1e4294967296"), Some(ExactQuantity { negative: false, digits: vec![1], exponent: 0 }));
        assert!(parse("1e4294967296").is_err());
    }

    #[test]
    fn order_and_sums() {
        assert_eq!(parse("1Gi").unwrap().compare(&parse("1024Mi").unwrap()), Ordering::Equal);
        assert_eq!(parse("1").unwrap().compare(&parse("999m").unwrap()), Ordering::Greater);
        let sum = parse("12Ki").unwrap().add(&parse("13").unwrap()).unwrap();
        assert_eq!(sum.to_string(), "12301");
    }

    fn q(text: &str) -> ExactQuantity {
        parse_exact(text).unwrap_or_else(|| panic!("{text:?} should parse"))
    }

    /// The quantity as digits and a power of ten, for readable expectations.
    fn exact(text: &str) -> (bool, String, i64) {
        let quantity = q(text);
        let digits = quantity.digits.iter().map(|d| char::from(b'0' + d)).collect();
        (quantity.negative, digits, quantity.exponent)
    }

    fn from_parts(negative: bool, mantissa: u128, exponent: i64) -> ExactQuantity {
        let digits = mantissa.to_string().bytes().map(|c| c - b'0').collect();
        let mut quantity = ExactQuantity { negative, digits, exponent };
        quantity.normalize();
        quantity
    }

    /// TestQuantityParse of kubernetes/apimachinery eed236ceee2c19c2753a3d93ac0631dc20750454,
    /// pkg/api/resource/quantity_test.go (Apache-2.0): each value as mantissa × 10^exponent,
    /// also written with a leading `-` and `+`, and the inputs it rejects.
    #[test]
    fn kubernetes_parse_table() {
        let cases: &[(&str, u128, i64)] = &[
            ("0", 0, 0),
            ("0n", 0, 0),
            ("0u", 0, 0),
            ("0m", 0, 0),
            ("0Ki", 0, 0),
            ("0k", 0, 0),
            ("0Mi", 0, 0),
            ("0M", 0, 0),
            ("0Gi", 0, 0),
            ("0G", 0, 0),
            ("0Ti", 0, 0),
            ("0T", 0, 0),
            ("1", 1, 0),
            ("1Ki", 1024, 0),
            ("8Ki", 8192, 0),
            ("7Mi", 7340032, 0),
            ("6Gi", 6442450944, 0),
            ("5Ti", 5497558138880, 0),
            ("4Pi", 4503599627370496, 0),
            ("3Ei", 3458764513820540928, 0),
            ("10Ti", 10995116277760, 0),
            ("100Ti", 109951162777600, 0),
            ("5n", 5, -9),
            ("4u", 4, -6),
            ("3m", 3, -3),
            ("9", 9, 0),
            ("8k", 8, 3),
            ("50k", 5, 4),
            ("7M", 7, 6),
            ("6G", 6, 9),
            ("5T", 5, 12),
            ("40T", 4, 13),
            ("300T", 3, 14),
            ("2P", 2, 15),
            ("1E", 1, 18),
            ("1E-3", 1, -3),
            ("1e3", 1, 3),
            ("1E6", 1, 6),
            ("1e9", 1, 9),
            ("1E12", 1, 12),
            ("1e15", 1, 15),
            ("1E18", 1, 18),
            ("1e14", 1, 14),
            ("1e13", 1, 13),
            ("1e3", 1, 3),
            ("100.035k", 100035, 0),
            ("0.001", 1, -3),
            ("0.0005k", 5, -1),
            ("0.005", 5, -3),
            ("0.05", 5, -2),
            ("0.5", 5, -1),
            ("0.00050k", 5, -1),
            ("0.00500", 5, -3),
            ("0.05000", 5, -2),
            ("0.50000", 5, -1),
            ("0.5e0", 5, -1),
            ("0.5e-1", 5, -2),
            ("0.5e-2", 5, -3),
            ("0.5e0", 5, -1),
            ("10.035M", 10035, 3),
            ("1.2e3", 12, 2),
            ("1.3E+6", 13, 5),
            ("1.40e9", 14, 8),
            ("1.53E12", 153, 10),
            ("1.6e15", 16, 14),
            ("1.7E18", 17, 17),
            ("9.01", 901, -2),
            ("8.1k", 81, 2),
            ("7.123456M", 7123456, 0),
            ("6.987654321G", 6987654321, 0),
            ("5.444T", 5444, 9),
            ("40.1T", 401, 11),
            ("300.2T", 3002, 11),
            ("2.5P", 25, 14),
            ("1.01E", 101, 16),
            ("3.001n", 4, -9),
            ("1.1E-9", 2, -9),
            ("0.0000000001", 1, -9),
            ("0.0000000005", 1, -9),
            ("0.00000000050", 1, -9),
            ("0.5e-9", 1, -9),
            ("0.9n", 1, -9),
            ("0.00000012345", 124, -9),
            ("0.00000012354", 124, -9),
            ("12E", 12, 18),
            ("100.035Ki", 10243584, -2),
            ("0.5Mi", 524288, 0),
            ("0.05Gi", 536870912, -1),
            ("0.025Ti", 274877906944, -1),
            ("0.000000000001Ki", 2, -9),
            (".001", 1, -3),
            (".0001k", 100, -3),
            ("1.", 1, 0),
            ("1.G", 1, 9),
            ("9Ei", i64::MAX as u128, 0),
            ("9223372036854775807Ki", i64::MAX as u128, 0),
        ];
        for &(text, mantissa, exponent) in cases {
            assert_eq!(q(text), from_parts(false, mantissa, exponent), "{text:?}");
            assert_eq!(q(&format!("-{text}")), from_parts(true, mantissa, exponent), "-{text:?}");
            assert_eq!(q(&format!("+{text}")), from_parts(false, mantissa, exponent), "+{text:?}");
        }
        for text in ["", "1.1.M", "1+1.0M", "0.1mi", "0.1am", "aoeu", ".5i", "1i", "-3.01i", "-3.01e-", " 1", "1 "] {
            assert_eq!(parse_exact(text), None, "{text:?}");
        }
    }

    /// TestQuantityCmp of the same file.
    #[test]
    fn kubernetes_compare_table() {
        let cases = [("0", "0", Ordering::Equal), ("100m", "50m", Ordering::Greater), ("50m", "100m", Ordering::Less), ("10000T", "100Gi", Ordering::Greater)];
        for (x, y, expected) in cases {
            assert_eq!(q(x).cmp(&q(y)), expected, "{x} vs {y}");
        }
    }

    #[test]
    fn parses_suffixes_exactly() {
        let cases: &[(&str, (bool, &str, i64))] = &[
            ("0", (false, "", 0)),
            ("1", (false, "1", 0)),
            ("100Mi", (false, "1048576", 2)),
            ("1Ki", (false, "1024", 0)),
            ("1.5Gi", (false, "1610612736", 0)),
            ("500m", (false, "5", -1)),
            ("0.5", (false, "5", -1)),
            (".5", (false, "5", -1)),
            ("5.", (false, "5", 0)),
            ("1e3", (false, "1", 3)),
            ("1E3", (false, "1", 3)),
            ("1e+3", (false, "1", 3)),
            ("15e-1", (false, "15", -1)),
            ("1E", (false, "1", 18)),
            ("2k", (false, "2", 3)),
            ("3M", (false, "3", 6)),
            ("4G", (false, "4", 9)),
            ("5T", (false, "5", 12)),
            ("6P", (false, "6", 15)),
            ("7u", (false, "7", -6)),
            ("8n", (false, "8", -9)),
            ("-1.5Ki", (true, "1536", 0)),
            ("+12", (false, "12", 0)),
            ("007", (false, "7", 0)),
            ("100000000000000000000000", (false, "1", 23)),
            ("1Ei", (false, "1152921504606846976", 0)),
        ];
        for (text, (negative, digits, exponent)) in cases {
            assert_eq!(exact(text), (*negative, digits.to_string(), *exponent), "{text:?}");
        }
    }

    #[test]
    fn rounds_up_to_nano_and_caps_binary() {
        assert_eq!(exact("0.1n"), (false, "1".into(), -9));
        assert_eq!(exact("1.0000000001"), (false, "1000000001".into(), -9));
        assert_eq!(exact("-1.0000000001"), (true, "1000000001".into(), -9));
        assert_eq!(exact("1e-30"), (false, "1".into(), -9));
        assert_eq!(exact("8Ei"), (false, "9223372036854775807".into(), 0));
        assert_eq!(exact("-100Ei"), (true, "9223372036854775807".into(), 0));
        // Decimal quantities are not capped.
        assert_eq!(exact("100E"), (false, "1".into(), 20));
    }

    #[test]
    fn digitless_numbers_are_zero_unless_finer_than_nano() {
        for text in ["+", "-", ".", "m", "Ki", "e5", ".e-9"] {
            assert_eq!(exact(text), (false, String::new(), 0), "{text:?}");
        }
        assert_eq!(parse_exact("e-10"), None);
        assert_eq!(parse_exact("0e-10"), Some(ExactQuantity::zero()));
    }

    #[test]
    fn rejects_what_kubernetes_rejects() {
        for text in ["", "abc", "gii", "1K", "1ki", "1e", "1e+", "1i", "1.5.5", "1Mi5", "1 Mi", " 1", "1e3Mi", "--1", "0x10", "1,5"] {
            assert_eq!(parse_exact(text), None, "{text:?}");
        }
    }

    #[test]
    fn compares_across_suffixes() {
        let ordered = ["-1Gi", "-1G", "-1", "-500m", "0", "1n", "0.2", ".5", "1", "1k", "1Ki", "1G", "1000Mi", "1Gi", "1e10"];
        let parsed: Vec<ExactQuantity> = ordered.iter().map(|t| q(t)).collect();
        for pair in parsed.windows(2) {
            assert_eq!(pair[0].cmp(&pair[1]), Ordering::Less, "{:?} < {:?}", pair[0], pair[1]);
        }
        assert_eq!(q("1024Mi").cmp(&q("1Gi")), Ordering::Equal);
        assert_eq!(q("0.2").cmp(&q("200m")), Ordering::Equal);
        assert_eq!(q("500m").cmp(&q("0.5")), Ordering::Equal);
        assert_eq!(q("-0").cmp(&q("0")), Ordering::Equal);
        assert_eq!(q("1e3").cmp(&q("1k")), Ordering::Equal);
        assert_eq!(q("1000.000000").cmp(&q("1k")), Ordering::Equal);
    }
}
