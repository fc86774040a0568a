//! Time functions: RFC 3339 times in and out, with Go's `time` semantics (offsets kept, output
//! without fractional seconds, differences as Go durations).

use jmespath::Runtime;
use serde_json::Value;
use time::{OffsetDateTime, UtcOffset};

use super::{Arg, define, string_arg};
use crate::duration::{self, Duration};
use crate::jmespath::go_time;

fn time_arg(function: &str, args: &[Value], index: usize) -> Result<OffsetDateTime, String> {
    go_time::parse_rfc3339(string_arg(function, args, index)?)
}

fn duration_arg(function: &str, args: &[Value], index: usize) -> Result<Duration, String> {
    duration::parse(string_arg(function, args, index)?)
}

fn rfc3339(time: OffsetDateTime) -> Value {
    Value::String(go_time::format_rfc3339(time))
}

/// `t2.Sub(t1)` as Go prints it; Go saturates at the largest duration.
fn difference(from: OffsetDateTime, to: OffsetDateTime) -> Value {
    let nanoseconds = (to - from).whole_nanoseconds().clamp(i128::from(i64::MIN), i128::from(i64::MAX));
    Value::String(Duration(nanoseconds as i64).to_string())
}

/// A time in a Go layout, or RFC 3339 when the layout is empty.
fn time_in_layout(layout: &str, text: &str) -> Result<OffsetDateTime, String> {
    if layout.is_empty() { go_time::parse_rfc3339(text) } else { go_time::parse_layout(layout, text) }
}

pub(super) fn register(runtime: &mut Runtime) {
    use Arg::String;
    define(runtime, "time_since", &[String, String, String], |args| {
        let layout = string_arg("time_since", args, 0)?;
        let start = time_in_layout(layout, string_arg("time_since", args, 1)?)?;
        let end = match string_arg("time_since", args, 2)? {
            "" => OffsetDateTime::now_utc(),
            text => time_in_layout(layout, text)?,
        };
        Ok(difference(start, end))
    });
    define(runtime, "time_now", &[], |_| Ok(rfc3339(OffsetDateTime::now_utc())));
    define(runtime, "time_now_utc", &[], |_| Ok(rfc3339(OffsetDateTime::now_utc())));
    define(runtime, "time_to_cron", &[String], |args| {
        let time = time_arg("time_to_cron", args, 0)?;
        Ok(Value::String(format!(
            "{} {} {} {} {}",
            time.minute(),
            time.hour(),
            time.day(),
            u8::from(time.month()),
            time.weekday().number_days_from_sunday()
        )))
    });
    define(runtime, "time_add", &[String, String], |args| {
        // Kyverno names time_to_cron in this function's argument errors.
        let time = time_arg("time_to_cron", args, 0)?;
        let duration = duration_arg("time_to_cron", args, 1)?;
        let sum = time.checked_add(time::Duration::nanoseconds(duration.0)).ok_or("time out of range")?;
        Ok(rfc3339(sum))
    });
    define(runtime, "time_parse", &[String, String], |args| {
        let layout = string_arg("time_parse", args, 0)?;
        let text = string_arg("time_parse", args, 1)?;
        // A layout that is a number means the time is seconds since the epoch.
        if layout.parse::<i64>().is_ok() {
            let seconds: i64 = text.parse().map_err(|_| format!("strconv.ParseInt: parsing {text:?}: invalid syntax"))?;
            let time = OffsetDateTime::from_unix_timestamp(seconds).map_err(|error| error.to_string())?;
            return Ok(rfc3339(time));
        }
        Ok(rfc3339(go_time::parse_layout(layout, text)?))
    });
    define(runtime, "time_utc", &[String], |args| {
        let time = time_arg("time_utc", args, 0)?;
        Ok(rfc3339(time.checked_to_offset(UtcOffset::UTC).ok_or("time out of range")?))
    });
    define(runtime, "time_diff", &[String, String], |args| {
        Ok(difference(time_arg("time_diff", args, 0)?, time_arg("time_diff", args, 1)?))
    });
    define(runtime, "time_before", &[String, String], |args| {
        Ok(Value::Bool(time_arg("time_before", args, 0)? < time_arg("time_before", args, 1)?))
    });
    define(runtime, "time_after", &[String, String], |args| {
        Ok(Value::Bool(time_arg("time_after", args, 0)? > time_arg("time_after", args, 1)?))
    });
    define(runtime, "time_between", &[String, String, String], |args| {
        let time = time_arg("time_between", args, 0)?;
        Ok(Value::Bool(time > time_arg("time_between", args, 1)? && time < time_arg("time_between", args, 2)?))
    });
    define(runtime, "time_truncate", &[String, String], |args| {
        let time = time_arg("time_truncate", args, 0)?;
        let step = duration_arg("time_truncate", args, 1)?;
        Ok(rfc3339(go_time::truncate(time, step).ok_or("time out of range")?))
    });
}
