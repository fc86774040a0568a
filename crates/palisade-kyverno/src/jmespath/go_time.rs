//! Go's `time.Parse` with reference-time layouts (`Mon Jan _2 15:04:05 MST 2006`) and
//! `Format(time.RFC3339)`, which Kyverno's time functions are written in.

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

use crate::duration::Duration;

pub(crate) const RFC3339: &str = "2006-01-02T15:04:05Z07:00";

/// One element of a layout.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Element {
    LongMonth,
    Month,
    NumMonth,
    ZeroMonth,
    LongWeekDay,
    WeekDay,
    Day,
    UnderDay,
    ZeroDay,
    UnderYearDay,
    ZeroYearDay,
    Hour,
    Hour12,
    ZeroHour12,
    Minute,
    ZeroMinute,
    Second,
    ZeroSecond,
    LongYear,
    Year,
    UpperPm,
    LowerPm,
    /// `Z07:00` and friends when `z` is set: `Z` stands for a zero offset.
    Offset { z: bool, colons: bool, seconds: bool, minutes: bool },
    ZoneName,
    /// `.000` (exact digits) or `.999` (optional digits).
    Fraction { digits: usize, exact: bool },
}

/// The literal text before the next element, the element, and the layout after it.
fn next_element(layout: &str) -> (&str, Option<(Element, &str)>) {
    use Element::*;
    let bytes = layout.as_bytes();
    for start in 0..bytes.len() {
        if !layout.is_char_boundary(start) {
            continue;
        }
        let rest = &layout[start..];
        let found = |element: Element, length: usize| Some((element, length));
        let candidate = match bytes[start] {
            b'J' if rest.starts_with("January") => found(LongMonth, 7),
            b'J' if rest.starts_with("Jan") => found(Month, 3),
            b'M' if rest.starts_with("Monday") => found(LongWeekDay, 6),
            b'M' if rest.starts_with("Mon") => found(WeekDay, 3),
            b'M' if rest.starts_with("MST") => found(ZoneName, 3),
            b'0' if rest.starts_with("002") => found(ZeroYearDay, 3),
            b'0' => match bytes.get(start + 1) {
                Some(b'1') => found(ZeroMonth, 2),
                Some(b'2') => found(ZeroDay, 2),
                Some(b'3') => found(ZeroHour12, 2),
                Some(b'4') => found(ZeroMinute, 2),
                Some(b'5') => found(ZeroSecond, 2),
                Some(b'6') => found(Year, 2),
                _ => None,
            },
            b'1' if rest.starts_with("15") => found(Hour, 2),
            b'1' => found(NumMonth, 1),
            b'2' if rest.starts_with("2006") => found(LongYear, 4),
            b'2' => found(Day, 1),
            b'_' if rest.starts_with("__2") => found(UnderYearDay, 3),
            b'_' if rest.starts_with("_2") && !rest.starts_with("_2006") => found(UnderDay, 2),
            b'3' => found(Hour12, 1),
            b'4' => found(Minute, 1),
            b'5' => found(Second, 1),
            b'P' if rest.starts_with("PM") => found(UpperPm, 2),
            b'p' if rest.starts_with("pm") => found(LowerPm, 2),
            b'-' | b'Z' => {
                let z = bytes[start] == b'Z';
                [("07:00:00", true, true), ("070000", false, true), ("07:00", true, false), ("0700", false, false), ("07", false, false)]
                    .into_iter()
                    .find(|(shape, ..)| rest[1..].starts_with(shape))
                    .map(|(shape, colons, seconds)| (Offset { z, colons, seconds, minutes: shape.len() > 2 }, shape.len() + 1))
            }
            b'.' | b',' if matches!(bytes.get(start + 1), Some(b'0' | b'9')) => {
                let digit = bytes[start + 1];
                let run = rest[1..].bytes().take_while(|b| *b == digit).count();
                let followed_by_digit = rest.as_bytes().get(1 + run).is_some_and(u8::is_ascii_digit);
                (!followed_by_digit).then_some((Fraction { digits: run, exact: digit == b'0' }, 1 + run))
            }
            _ => None,
        };
        if let Some((element, length)) = candidate {
            return (&layout[..start], Some((element, &layout[start + length..])));
        }
    }
    (layout, None)
}

/// Go's `skip`: the literal must match, a run of spaces matching any run of spaces.
fn skip<'a>(value: &'a str, literal: &str) -> Option<&'a str> {
    let (mut value, mut literal) = (value, literal);
    while let Some(c) = literal.chars().next() {
        if c == ' ' {
            if !value.is_empty() && !value.starts_with(' ') {
                return None;
            }
            literal = literal.trim_start_matches(' ');
            value = value.trim_start_matches(' ');
            continue;
        }
        value = value.strip_prefix(c)?;
        literal = &literal[c.len_utf8()..];
    }
    Some(value)
}

/// Up to `max` leading digits (at least one; exactly `max` when `fixed`).
fn number(value: &str, max: usize, fixed: bool) -> Option<(u32, &str)> {
    let length = value.bytes().take(max).take_while(u8::is_ascii_digit).count();
    if length == 0 || (fixed && length != max) {
        return None;
    }
    Some((value[..length].parse().ok()?, &value[length..]))
}

const MONTHS: [&str; 12] =
    ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
const DAYS: [&str; 7] = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

/// The index of the name `value` starts with, compared without case as Go does.
fn name<'a>(value: &'a str, names: &[&str], abbreviated: bool) -> Option<(usize, &'a str)> {
    names.iter().enumerate().find_map(|(index, full)| {
        let candidate = if abbreviated { &full[..3] } else { full };
        let head = value.get(..candidate.len())?;
        head.eq_ignore_ascii_case(candidate).then(|| (index, &value[candidate.len()..]))
    })
}

#[derive(Default)]
struct Fields {
    year: i32,
    month: u32,
    day: u32,
    year_day: Option<u32>,
    hour: u32,
    minute: u32,
    second: u32,
    nanosecond: u32,
    pm: Option<bool>,
    offset: Option<i32>,
}

/// Go's `time.Parse(layout, value)`.
pub(crate) fn parse_layout(layout: &str, value: &str) -> Result<OffsetDateTime, String> {
    let failed = |element: &str, rest: &str| format!("parsing time {value:?} as {layout:?}: cannot parse {rest:?} as {element:?}");
    let mut fields = Fields { year: 0, month: 1, day: 1, ..Fields::default() };
    let (mut layout_rest, mut rest) = (layout, value);
    loop {
        let (literal, next) = next_element(layout_rest);
        rest = skip(rest, literal).ok_or_else(|| failed(literal, rest))?;
        let Some((element, after)) = next else {
            if !rest.is_empty() {
                return Err(format!("parsing time {value:?}: extra text: {rest:?}"));
            }
            break;
        };
        let element_text = &layout_rest[literal.len()..layout_rest.len() - after.len()];
        let fail = || failed(element_text, rest);
        rest = parse_element(element, rest, &mut fields).ok_or_else(fail)?;
        // Go reads fractional seconds after the seconds even when the layout has none.
        if matches!(element, Element::Second | Element::ZeroSecond)
            && rest.starts_with(['.', ','])
            && rest.as_bytes().get(1).is_some_and(u8::is_ascii_digit)
            && !matches!(next_element(after), ("", Some((Element::Fraction { .. }, _))))
        {
            let digits = rest[1..].bytes().take_while(u8::is_ascii_digit).count();
            fields.nanosecond = fraction(&rest[1..1 + digits]);
            rest = &rest[1 + digits..];
        }
        layout_rest = after;
    }
    build(fields).ok_or_else(|| format!("parsing time {value:?}: day out of range"))
}

fn fraction(digits: &str) -> u32 {
    let mut padded: String = digits.chars().take(9).collect();
    while padded.len() < 9 {
        padded.push('0');
    }
    padded.parse().unwrap_or(0)
}

fn parse_element<'a>(element: Element, value: &'a str, fields: &mut Fields) -> Option<&'a str> {
    use Element::*;
    let rest = match element {
        LongYear => {
            let (year, rest) = number(value, 4, true)?;
            fields.year = year as i32;
            rest
        }
        Year => {
            let (year, rest) = number(value, 2, true)?;
            fields.year = if year >= 69 { 1900 + year as i32 } else { 2000 + year as i32 };
            rest
        }
        LongMonth | Month => {
            let (index, rest) = name(value, &MONTHS, element == Month)?;
            fields.month = index as u32 + 1;
            rest
        }
        NumMonth | ZeroMonth => {
            let (month, rest) = number(value, 2, element == ZeroMonth)?;
            (1..=12).contains(&month).then_some(())?;
            fields.month = month;
            rest
        }
        LongWeekDay | WeekDay => name(value, &DAYS, element == WeekDay)?.1,
        Day | UnderDay | ZeroDay => {
            let value = if element == UnderDay { value.strip_prefix(' ').unwrap_or(value) } else { value };
            let (day, rest) = number(value, 2, element == ZeroDay)?;
            fields.day = day;
            rest
        }
        UnderYearDay | ZeroYearDay => {
            let value = if element == UnderYearDay { value.trim_start_matches(' ') } else { value };
            let (day, rest) = number(value, 3, element == ZeroYearDay)?;
            fields.year_day = Some(day);
            rest
        }
        Hour => {
            let (hour, rest) = number(value, 2, false)?;
            (hour < 24).then_some(())?;
            fields.hour = hour;
            rest
        }
        Hour12 | ZeroHour12 => {
            let (hour, rest) = number(value, 2, element == ZeroHour12)?;
            (hour <= 12).then_some(())?;
            fields.hour = hour;
            rest
        }
        Minute | ZeroMinute => {
            let (minute, rest) = number(value, 2, element == ZeroMinute)?;
            (minute < 60).then_some(())?;
            fields.minute = minute;
            rest
        }
        Second | ZeroSecond => {
            let (second, rest) = number(value, 2, element == ZeroSecond)?;
            (second < 60).then_some(())?;
            fields.second = second;
            rest
        }
        UpperPm | LowerPm => {
            let (am, pm) = if element == UpperPm { ("AM", "PM") } else { ("am", "pm") };
            let head = value.get(..2)?;
            fields.pm = Some(if head == pm { true } else if head == am { false } else { return None });
            &value[2..]
        }
        Offset { z, colons, seconds, minutes } => {
            if z && let Some(rest) = value.strip_prefix('Z') {
                fields.offset = Some(0);
                return Some(rest);
            }
            let sign = match value.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let mut rest = &value[1..];
            let (hours, after) = number(rest, 2, true)?;
            rest = after;
            let mut total = hours as i32 * 3600;
            for (present, unit) in [(minutes, 60), (seconds, 1)] {
                if !present {
                    continue;
                }
                if colons {
                    rest = rest.strip_prefix(':')?;
                }
                let (amount, after) = number(rest, 2, true)?;
                total += amount as i32 * unit;
                rest = after;
            }
            fields.offset = Some(sign * total);
            rest
        }
        ZoneName => {
            // An abbreviation Go does not know in the local zone (Kyverno runs in UTC) reads
            // as a zero offset under that name.
            let length = value.bytes().take_while(u8::is_ascii_uppercase).count();
            (length >= 3).then_some(())?;
            fields.offset.get_or_insert(0);
            &value[length..]
        }
        Fraction { digits, exact } => {
            let separator = value.chars().next().filter(|c| *c == '.' || *c == ',');
            match separator {
                Some(_) => {
                    let available = value[1..].bytes().take_while(u8::is_ascii_digit).count();
                    if exact && available < digits {
                        return None;
                    }
                    let taken = if exact { digits } else { available };
                    fields.nanosecond = fraction(&value[1..1 + taken]);
                    &value[1 + taken..]
                }
                None if exact => return None,
                None => value,
            }
        }
    };
    Some(rest)
}

fn build(fields: Fields) -> Option<OffsetDateTime> {
    let mut hour = fields.hour;
    match fields.pm {
        Some(true) if hour < 12 => hour += 12,
        Some(false) if hour == 12 => hour = 0,
        _ => {}
    }
    let date = match fields.year_day {
        Some(day) => Date::from_ordinal_date(fields.year, u16::try_from(day).ok()?).ok()?,
        None => Date::from_calendar_date(fields.year, Month::try_from(u8::try_from(fields.month).ok()?).ok()?, u8::try_from(fields.day).ok()?).ok()?,
    };
    let time = Time::from_hms_nano(hour as u8, fields.minute as u8, fields.second as u8, fields.nanosecond).ok()?;
    let offset = UtcOffset::from_whole_seconds(fields.offset.unwrap_or(0)).ok()?;
    Some(PrimitiveDateTime::new(date, time).assume_offset(offset))
}

pub(crate) fn parse_rfc3339(text: &str) -> Result<OffsetDateTime, String> {
    parse_layout(RFC3339, text)
}

/// `Format(time.RFC3339)`: whole seconds, `Z` for a zero offset.
pub(crate) fn format_rfc3339(time: OffsetDateTime) -> String {
    let offset = time.offset();
    let zone = if offset.is_utc() {
        "Z".to_string()
    } else {
        let seconds = offset.whole_seconds();
        let sign = if seconds < 0 { '-' } else { '+' };
        let magnitude = seconds.unsigned_abs();
        format!("{sign}{:02}:{:02}", magnitude / 3600, magnitude / 60 % 60)
    };
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{zone}",
        time.year(),
        u8::from(time.month()),
        time.day(),
        time.hour(),
        time.minute(),
        time.second()
    )
}

/// `t.Truncate(d)`: rounded down to a multiple of `d` since Go's zero time (year 1, UTC);
/// `None` when that leaves the representable years.
pub(crate) fn truncate(time: OffsetDateTime, step: Duration) -> Option<OffsetDateTime> {
    if step.0 <= 0 {
        return Some(time);
    }
    const SECONDS_FROM_YEAR_ONE_TO_UNIX: i128 = 62_135_596_800;
    let since_zero = time.unix_timestamp_nanos() + SECONDS_FROM_YEAR_ONE_TO_UNIX * 1_000_000_000;
    let remainder = since_zero.rem_euclid(i128::from(step.0));
    time.checked_sub(time::Duration::nanoseconds(remainder as i64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_parse_as_go_parses_them() {
        let parsed = parse_layout("Mon Jan _2 15:04:05 MST 2006", "Mon Jan 02 15:04:05 MST 2021").unwrap();
        assert_eq!(format_rfc3339(parsed), "2021-01-02T15:04:05Z");
        let parsed = parse_layout("Mon Jan 02 15:04:05 -0700 2006", "Sat Jan 02 15:04:05 -0700 2021").unwrap();
        assert_eq!(format_rfc3339(parsed), "2021-01-02T15:04:05-07:00");
        let parsed = parse_rfc3339("2021-01-02T15:04:05.123Z").unwrap();
        assert_eq!(parsed.nanosecond(), 123_000_000);
        assert!(parse_rfc3339("2021-02-30T15:04:05Z").is_err());
        assert!(parse_rfc3339("").is_err());
        let parsed = parse_layout("3:04PM", "7:30PM").unwrap();
        assert_eq!(parsed.hour(), 19);
    }
}
