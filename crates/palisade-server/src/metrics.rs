//! A small Prometheus registry: labelled counters and histograms rendered in the text exposition
//! format (version 0.0.4). Label sets are few (routes, rules, results), so a mutex-guarded map
//! per family is cheap next to the work a request does.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::{Arc, Mutex};

/// Latency buckets in seconds, from 100 µs to 10 s: admission answers in well under a
/// millisecond, the API server gives up after its timeout (at most 30 s).
pub const LATENCY_BUCKETS: &[f64] =
    &[0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

trait Family: Send + Sync {
    fn render(&self, out: &mut String);
}

/// Every metric family the process exposes on `/metrics`.
#[derive(Default)]
pub struct Registry {
    families: Mutex<Vec<Arc<dyn Family>>>,
}

impl Registry {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a counter family with these label names.
    pub fn counter(&self, name: &'static str, help: &'static str, labels: &'static [&'static str]) -> Arc<Counter> {
        let family = Arc::new(Counter(Series::new(name, help, labels)));
        self.register(family.clone());
        family
    }

    /// Registers a histogram family with these label names and bucket upper bounds (seconds,
    /// increasing).
    pub fn histogram(
        &self,
        name: &'static str,
        help: &'static str,
        labels: &'static [&'static str],
        buckets: &'static [f64],
    ) -> Arc<Histogram> {
        let family = Arc::new(Histogram { series: Series::new(name, help, labels), buckets });
        self.register(family.clone());
        family
    }

    /// Registers a counter kept elsewhere (a process-wide atomic): each series is read when
    /// the registry renders.
    pub fn observed_counter(
        &self,
        name: &'static str,
        help: &'static str,
        label: &'static str,
        series: Vec<(&'static str, Box<dyn Fn() -> u64 + Send + Sync>)>,
    ) {
        self.register(Arc::new(ObservedCounter { name, help, label, series }));
    }

    /// Registers a gauge kept elsewhere (a queue's depth, a cache's size), read when the
    /// registry renders.
    pub fn observed_gauge(&self, name: &'static str, help: &'static str, read: Box<dyn Fn() -> u64 + Send + Sync>) {
        self.register(Arc::new(ObservedGauge { name, help, read }));
    }

    fn register(&self, family: Arc<dyn Family>) {
        self.families.lock().unwrap_or_else(|poison| poison.into_inner()).push(family);
    }

    /// The text exposition of every family, in registration order.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for family in self.families.lock().unwrap_or_else(|poison| poison.into_inner()).iter() {
            family.render(&mut out);
        }
        out
    }
}

/// The values of one family, keyed by label values.
struct Series<T> {
    name: &'static str,
    help: &'static str,
    labels: &'static [&'static str],
    values: Mutex<BTreeMap<Vec<String>, T>>,
}

impl<T: Default> Series<T> {
    fn new(name: &'static str, help: &'static str, labels: &'static [&'static str]) -> Self {
        Self { name, help, labels, values: Mutex::new(BTreeMap::new()) }
    }

    fn update(&self, label_values: &[&str], update: impl FnOnce(&mut T)) {
        debug_assert_eq!(label_values.len(), self.labels.len(), "{}: wrong number of labels", self.name);
        let mut values = self.values.lock().unwrap_or_else(|poison| poison.into_inner());
        // Look up without allocating; allocate the key only for a new label set.
        if let Some(value) = values.iter_mut().find(|(key, _)| key.iter().eq(label_values.iter().copied())) {
            update(value.1);
            return;
        }
        let mut value = T::default();
        update(&mut value);
        values.insert(label_values.iter().map(|value| (*value).to_owned()).collect(), value);
    }

    fn header(&self, out: &mut String, kind: &str) {
        let _ = writeln!(out, "# HELP {} {}\n# TYPE {} {kind}", self.name, self.help, self.name);
    }

    /// `{a="x",b="y"}` with an optional extra label (the histogram's `le`), or nothing.
    fn label_text(&self, values: &[String], extra: Option<(&str, &str)>) -> String {
        let pairs: Vec<String> = self
            .labels
            .iter()
            .zip(values)
            .map(|(name, value)| format!("{name}=\"{}\"", escape(value)))
            .chain(extra.map(|(name, value)| format!("{name}=\"{value}\"")))
            .collect();
        if pairs.is_empty() { String::new() } else { format!("{{{}}}", pairs.join(",")) }
    }
}

fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// A monotonically increasing count per label set.
pub struct Counter(Series<u64>);

impl Counter {
    pub fn inc(&self, label_values: &[&str]) {
        self.add(label_values, 1);
    }

    pub fn add(&self, label_values: &[&str], amount: u64) {
        self.0.update(label_values, |value| *value += amount);
    }

    /// The current count for a label set (0 when never incremented).
    pub fn get(&self, label_values: &[&str]) -> u64 {
        let values = self.0.values.lock().unwrap_or_else(|poison| poison.into_inner());
        values.iter().find(|(key, _)| key.iter().eq(label_values.iter().copied())).map_or(0, |(_, value)| *value)
    }
}

impl Family for Counter {
    fn render(&self, out: &mut String) {
        self.0.header(out, "counter");
        for (labels, value) in self.0.values.lock().unwrap_or_else(|poison| poison.into_inner()).iter() {
            let _ = writeln!(out, "{}{} {value}", self.0.name, self.0.label_text(labels, None));
        }
    }
}

struct ObservedCounter {
    name: &'static str,
    help: &'static str,
    label: &'static str,
    series: Vec<(&'static str, Box<dyn Fn() -> u64 + Send + Sync>)>,
}

impl Family for ObservedCounter {
    fn render(&self, out: &mut String) {
        let name = self.name;
        let _ = writeln!(out, "# HELP {name} {}\n# TYPE {name} counter", self.help);
        for (value, read) in &self.series {
            let _ = writeln!(out, "{name}{{{}=\"{}\"}} {}", self.label, escape(value), read());
        }
    }
}

struct ObservedGauge {
    name: &'static str,
    help: &'static str,
    read: Box<dyn Fn() -> u64 + Send + Sync>,
}

impl Family for ObservedGauge {
    fn render(&self, out: &mut String) {
        let name = self.name;
        let _ = writeln!(out, "# HELP {name} {}\n# TYPE {name} gauge\n{name} {}", self.help, (self.read)());
    }
}

#[derive(Default)]
struct Buckets {
    /// Non-cumulative count per bucket; the last slot is `+Inf`.
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

/// Observed durations (seconds) per label set, in fixed buckets.
pub struct Histogram {
    series: Series<Buckets>,
    buckets: &'static [f64],
}

impl Histogram {
    pub fn observe(&self, label_values: &[&str], seconds: f64) {
        let slot = self.buckets.iter().position(|bound| seconds <= *bound).unwrap_or(self.buckets.len());
        let width = self.buckets.len() + 1;
        self.series.update(label_values, |data| {
            data.counts.resize(width, 0);
            data.counts[slot] += 1;
            data.sum += seconds;
            data.count += 1;
        });
    }
}

impl Family for Histogram {
    fn render(&self, out: &mut String) {
        let name = self.series.name;
        self.series.header(out, "histogram");
        for (labels, data) in self.series.values.lock().unwrap_or_else(|poison| poison.into_inner()).iter() {
            let mut cumulative = 0;
            for (index, count) in data.counts.iter().enumerate() {
                cumulative += count;
                let bound = self.buckets.get(index).map_or_else(|| "+Inf".to_owned(), f64::to_string);
                let _ = writeln!(out, "{name}_bucket{} {cumulative}", self.series.label_text(labels, Some(("le", &bound))));
            }
            let plain = self.series.label_text(labels, None);
            let _ = writeln!(out, "{name}_sum{plain} {}\n{name}_count{plain} {}", data.sum, data.count);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_and_histograms_render_in_the_exposition_format() {
        let registry = Registry::new();
        let requests = registry.counter("t_requests_total", "Requests.", &["route", "status"]);
        requests.inc(&["/validate", "200"]);
        requests.add(&["/validate", "200"], 2);
        requests.inc(&["/m\"x", "500"]);
        let latency = registry.histogram("t_seconds", "Latency.", &[], &[0.001, 0.01]);
        registry.observed_counter("t_dropped_total", "Dropped.", "stream", vec![("out", Box::new(|| 4))]);
        registry.observed_gauge("t_depth", "Depth.", Box::new(|| 7));
        latency.observe(&[], 0.0005);
        latency.observe(&[], 0.005);
        latency.observe(&[], 3.0);
        assert_eq!(requests.get(&["/validate", "200"]), 3);
        assert_eq!(requests.get(&["/other", "200"]), 0);
        let text = registry.render();
        let expected = "# HELP t_requests_total Requests.\n# TYPE t_requests_total counter\n\
            t_requests_total{route=\"/m\\\"x\",status=\"500\"} 1\n\
            t_requests_total{route=\"/validate\",status=\"200\"} 3\n\
            # HELP t_seconds Latency.\n# TYPE t_seconds histogram\n\
            t_seconds_bucket{le=\"0.001\"} 1\nt_seconds_bucket{le=\"0.01\"} 2\nt_seconds_bucket{le=\"+Inf\"} 3\n\
            t_seconds_sum 3.0055\nt_seconds_count 3\n\
            # HELP t_dropped_total Dropped.\n# TYPE t_dropped_total counter\nt_dropped_total{stream=\"out\"} 4\n\
            # HELP t_depth Depth.\n# TYPE t_depth gauge\nt_depth 7\n";
        assert_eq!(text, expected);
    }
}
