//! Maven version ordering, as Maven's current `ComparableVersion` orders it.
//!
//! Follows `compat/maven-artifact/src/main/java/org/apache/maven/artifact/versioning/ComparableVersion.java`
//! in <https://github.com/apache/maven> (master at 540897d3, Maven 4: MNG-7644, MNG-7714,
//! MNG-8241 and `CombinationItem`; Maven 3.9.x lacks the last, 3.8.x also MNG-7644): the
//! lower-cased version splits at `.` and `-` and at transitions between digits and letters
//! into numbers, qualifiers and letter+number combinations (`rc1`); a `-` or a transition
//! opens a nested list. Qualifiers order `alpha` (`a1`) < `beta` (`b1`) < `milestone` (`m1`) <
//! `rc` = `cr` < `snapshot` < (none) = `ga` = `final` = `release` < `sp` < any other, others in
//! lexical order. Trailing zeros and release qualifiers are dropped (`1.0.0` = `1` =
//! `1-ga`).
//!
//! One deviation, for input no repository holds: Maven reads non-ASCII decimal digits after a
//! `-` as digits (`Character.isDigit`) and may then throw; here only ASCII digits are digits,
//! as in the rest of Maven's parser, so every string has an order.

use std::borrow::Cow;
use std::cmp::Ordering;

/// How `a` orders against `b` as Maven's `ComparableVersion` orders them.
pub fn compare(a: &str, b: &str) -> Ordering {
    let (a, b) = (lowercase(a), lowercase(b));
    let (a, b) = (Version::parse(&a), Version::parse(&b));
    a.compare_list(0, &b, 0)
}

/// Whether `version` is a usable Maven version. Maven accepts any string as a version; an
/// empty or blank one is the only kind it cannot resolve.
pub fn is_valid(version: &str) -> bool {
    !version.trim().is_empty()
}

/// `toLowerCase(Locale.ENGLISH)`, borrowing when there is nothing to lower.
fn lowercase(version: &str) -> Cow<'_, str> {
    if version.bytes().any(|b| b.is_ascii_uppercase() || !b.is_ascii()) {
        Cow::Owned(version.to_lowercase())
    } else {
        Cow::Borrowed(version)
    }
}

/// A digit run, kept as Maven keeps it: leading zeros stripped unless it is all zeros (then
/// kept whole, as `stripLeadingZeroes` does); its length picks Maven's item class.
#[derive(Clone, Copy)]
struct Number<'a>(&'a str);

impl<'a> Number<'a> {
    fn new(digits: &'a str) -> Self {
        match digits.bytes().position(|b| b != b'0') {
            Some(start) => Number(&digits[start..]),
            None if digits.is_empty() => Number("0"),
            None => Number(digits),
        }
    }

    /// 0: `IntItem` (≤ 9 digits), 1: `LongItem` (≤ 18), 2: `BigIntegerItem`; items of
    /// different classes order by class alone.
    fn class(self) -> u8 {
        match self.0.len() {
            0..=9 => 0,
            10..=18 => 1,
            _ => 2,
        }
    }

    fn is_zero(self) -> bool {
        self.0.bytes().all(|b| b == b'0')
    }

    fn compare(self, other: Number) -> Ordering {
        let (a, b) = (self.0.trim_start_matches('0'), other.0.trim_start_matches('0'));
        self.class().cmp(&other.class()).then_with(|| a.len().cmp(&b.len())).then_with(|| a.cmp(b))
    }

    /// `compareTo(null)`: `1.0` = `1`, `1.1` > `1`.
    fn compare_to_nothing(self) -> Ordering {
        if self.is_zero() { Ordering::Equal } else { Ordering::Greater }
    }
}

/// A qualifier as `StringItem` holds it (aliases applied).
#[derive(Clone, Copy)]
struct Qualifier<'a>(&'a str);

const QUALIFIERS: [&str; 7] = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"];
const RELEASE_RANK: u8 = 5;

impl<'a> Qualifier<'a> {
    fn new(text: &'a str, followed_by_digit: bool) -> Self {
        let text = match text {
            "a" if followed_by_digit => "alpha",
            "b" if followed_by_digit => "beta",
            "m" if followed_by_digit => "milestone",
            "cr" => "rc",
            other => other,
        };
        Qualifier(text)
    }

    /// `comparableQualifier`: the rank of a known qualifier, 7 for any other (which then
    /// orders by its text, in UTF-16 code units as Java compares strings).
    fn rank(self) -> u8 {
        if matches!(self.0, "ga" | "final" | "release") {
            return RELEASE_RANK;
        }
        QUALIFIERS.iter().position(|q| *q == self.0).map_or(QUALIFIERS.len() as u8, |i| i as u8)
    }

    fn compare(self, other: Qualifier) -> Ordering {
        let (a, b) = (self.rank(), other.rank());
        a.cmp(&b).then_with(|| if a as usize == QUALIFIERS.len() { self.0.encode_utf16().cmp(other.0.encode_utf16()) } else { Ordering::Equal })
    }

    fn compare_to_nothing(self) -> Ordering {
        self.rank().cmp(&RELEASE_RANK)
    }
}

#[derive(Clone, Copy)]
enum Item<'a> {
    Number(Number<'a>),
    Qualifier(Qualifier<'a>),
    /// `CombinationItem`: a qualifier directly followed by a number (`rc1`, `x-1`).
    Combination(Qualifier<'a>, Number<'a>),
    /// A nested list, by its index in `Version::lists`.
    List(usize),
}

/// Maven's nested `ListItem`s. Each new list is appended to the current one and becomes the
/// current one, so the nesting is a chain: list `k + 1` is the last item of list `k`.
struct Version<'a> {
    lists: Vec<Vec<Item<'a>>>,
}

impl<'a> Version<'a> {
    /// `parseVersion` over an already lower-cased version.
    fn parse(version: &'a str) -> Self {
        let mut parsed = Version { lists: vec![Vec::new()] };
        let bytes = version.as_bytes();
        let (mut is_digit, mut is_combination, mut start) = (false, false, 0);
        let mut i = 0;
        while i < bytes.len() {
            let c = bytes[i];
            if c == b'.' {
                if i == start {
                    parsed.push(Item::Number(Number("0")));
                } else {
                    parsed.push(item(is_combination, is_digit, &version[start..i]));
                }
                is_combination = false;
                start = i + 1;
            } else if c == b'-' {
                if i == start {
                    parsed.push(Item::Number(Number("0")));
                } else {
                    // `X-1` is read as `X1`.
                    if !is_digit && bytes.get(i + 1).is_some_and(u8::is_ascii_digit) {
                        is_combination = true;
                        i += 1;
                        continue;
                    }
                    parsed.push(item(is_combination, is_digit, &version[start..i]));
                }
                start = i + 1;
                if !parsed.current().is_empty() {
                    parsed.open_list();
                }
                is_combination = false;
            } else if c.is_ascii_digit() {
                if !is_digit && i > start {
                    is_combination = true;
                    if !parsed.current().is_empty() {
                        parsed.open_list();
                    }
                }
                is_digit = true;
            } else {
                if is_digit && i > start {
                    parsed.push(item(is_combination, true, &version[start..i]));
                    start = i;
                    parsed.open_list();
                    is_combination = false;
                }
                is_digit = false;
            }
            i += 1;
        }
        if bytes.len() > start {
            // `1.0.0.X1` < `1.0.0-X2`: `.X` is read as `-X` for any qualifier `X`.
            if !is_digit && !parsed.current().is_empty() {
                parsed.open_list();
            }
            parsed.push(item(is_combination, is_digit, &version[start..]));
        }
        for k in (0..parsed.lists.len()).rev() {
            parsed.normalize(k);
        }
        parsed
    }

    fn current(&self) -> &Vec<Item<'a>> {
        self.lists.last().expect("the root list always exists")
    }

    fn push(&mut self, item: Item<'a>) {
        self.lists.last_mut().expect("the root list always exists").push(item);
    }

    fn open_list(&mut self) {
        let index = self.lists.len();
        self.push(Item::List(index));
        self.lists.push(Vec::new());
    }

    fn is_null(&self, item: &Item) -> bool {
        match *item {
            Item::Number(n) => n.is_zero(),
            Item::Qualifier(q) => q.0.is_empty(),
            Item::Combination(..) => false,
            Item::List(k) => self.lists[k].is_empty(),
        }
    }

    /// `ListItem.normalize`: drops null items at the end and before qualifiers or before
    /// sub-lists that start with a qualifier. Lists are normalised innermost first.
    fn normalize(&mut self, k: usize) {
        for i in (0..self.lists[k].len()).rev() {
            let list = &self.lists[k];
            if !self.is_null(&list[i]) {
                continue;
            }
            let remove = match list.get(i + 1) {
                None | Some(Item::Qualifier(_)) => true,
                Some(Item::List(sub)) => matches!(self.lists[*sub].first(), Some(Item::Combination(..) | Item::Qualifier(_))),
                Some(_) => false,
            };
            if remove {
                self.lists[k].remove(i);
            }
        }
    }

    fn compare_list(&self, k: usize, other: &Version, m: usize) -> Ordering {
        let (left, right) = (&self.lists[k], &other.lists[m]);
        for i in 0..left.len().max(right.len()) {
            let order = match (left.get(i), right.get(i)) {
                (Some(l), r) => self.compare_item(l, other, r),
                (None, Some(r)) => other.compare_item(r, self, None).reverse(),
                (None, None) => Ordering::Equal,
            };
            if order != Ordering::Equal {
                return order;
            }
        }
        Ordering::Equal
    }

    /// `Item.compareTo`, `None` standing for Java's `null` (the other list has run out).
    fn compare_item(&self, item: &Item, other: &Version, against: Option<&Item>) -> Ordering {
        use Item::*;
        use Ordering::*;
        let Some(against) = against else {
            return match *item {
                Number(n) => n.compare_to_nothing(),
                Qualifier(q) | Combination(q, _) => q.compare_to_nothing(),
                // MNG-6964: the whole list is compared with nothing, not just its first item.
                List(k) => self.lists[k].iter().map(|i| self.compare_item(i, other, None)).find(|o| *o != Equal).unwrap_or(Equal),
            };
        };
        match (*item, *against) {
            (Number(a), Number(b)) => a.compare(b),
            (Number(_), _) => Greater,
            (Qualifier(_), Number(_)) => Less,
            (Qualifier(a), Qualifier(b)) => a.compare(b),
            (Qualifier(a), Combination(b, _)) => match a.compare(b) {
                Equal => Less,
                order => order,
            },
            (Qualifier(_), List(_)) => Less,
            (Combination(..), Number(_) | List(_)) => Less,
            (Combination(a, _), Qualifier(b)) => match a.compare(b) {
                // `X1` > `X`.
                Equal => Greater,
                order => order,
            },
            (Combination(a, x), Combination(b, y)) => a.compare(b).then_with(|| x.compare(y)),
            (List(_), Number(_)) => Less,
            (List(_), Qualifier(_) | Combination(..)) => Greater,
            (List(k), List(m)) => self.compare_list(k, other, m),
        }
    }
}

/// `parseItem`.
fn item(is_combination: bool, is_digit: bool, text: &str) -> Item<'_> {
    if is_combination {
        // `CombinationItem`: the qualifier up to the first digit (a `-` before the digits
        // dropped, as `buf.replace("-", "")` does), then the number.
        let digits = text.bytes().position(|b| b.is_ascii_digit()).unwrap_or(text.len());
        let qualifier = text[..digits].strip_suffix('-').unwrap_or(&text[..digits]);
        Item::Combination(Qualifier::new(qualifier, true), Number::new(&text[digits..]))
    } else if is_digit {
        Item::Number(Number::new(text))
    } else {
        Item::Qualifier(Qualifier::new(text, false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::*;

    #[test]
    fn qualifiers_order_around_the_release() {
        let ordered = ["1.0-alpha1", "1.0-beta1", "1.0-milestone1", "1.0-rc1", "1.0-snapshot", "1.0", "1.0-sp1", "1.0-zzz", "1.0.1"];
        for pair in ordered.windows(2) {
            assert_eq!(compare(pair[0], pair[1]), Less, "{pair:?}");
        }
        assert_eq!(compare("1.0-cr1", "1.0-rc1"), Equal);
        assert_eq!(compare("1.0-a1", "1.0-alpha-1"), Equal);
        assert_eq!(compare("1.0-ga", "1.0"), Equal);
        assert_eq!(compare("1.0.Final", "1.0"), Equal);
        assert_eq!(compare("1.0-RELEASE", "1.0"), Equal);
        assert_eq!(compare("2.12.7.1", "2.12.7"), Greater);
        assert_eq!(compare("1.0-SNAPSHOT", "1.0-snapshot"), Equal);
    }

    #[test]
    fn trailing_zeros_do_not_count() {
        assert_eq!(compare("1", "1.0.0"), Equal);
        assert_eq!(compare("1-0", "1"), Equal);
        assert_eq!(compare("1.0000000000", "1"), Equal);
        assert_eq!(compare("1.99999999999999999999", "1.100000000000000000000"), Less);
    }

    #[test]
    fn real_advisory_boundaries() {
        // log4j-core: fixed in 2.15.0, then 2.16.0; 2.15.0-rc1 is before 2.15.0.
        assert_eq!(compare("2.15.0-rc1", "2.15.0"), Less);
        assert_eq!(compare("2.14.1", "2.15.0"), Less);
        // Spring: 5.3.18 fixed, 5.3.17 vulnerable, RELEASE suffix of old releases ignored.
        assert_eq!(compare("5.2.20.RELEASE", "5.2.20"), Equal);
        assert_eq!(compare("5.3.17", "5.3.18"), Less);
        // Jackson micro patches: 2.13.2.1 sits between 2.13.2 and 2.13.3.
        assert_eq!(compare("2.13.2", "2.13.2.1"), Less);
        assert_eq!(compare("2.13.2.1", "2.13.3"), Less);
    }

    #[test]
    fn hostile_input_is_ordered_without_panicking() {
        for s in ["", "-", ".", "--", "..", "-1", "a-", "x-1-", "1-a-1-b", "\u{e9}", "\u{661}", "1.-.-", "ÉTÉ-1"] {
            assert_eq!(compare(s, s), Equal, "{s:?}");
            let _ = (compare(s, "1.0"), compare("1.0", s));
        }
        assert!(!is_valid("  ") && is_valid("1.0"));
    }
}
