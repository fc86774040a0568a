//! Renderers for the reachability matrix: a text grid, JSON, Graphviz DOT and Mermaid.

use std::fmt::Write as _;

use crate::model::Network;
use crate::ports::PortSet;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatrixFormat {
    Text,
    Json,
    Dot,
    Mermaid,
}

/// Renders `matrix` (as `Network::matrix` computes it, rows = sources) in `format`.
pub fn render_matrix(network: &Network<'_>, matrix: &[Vec<PortSet>], format: MatrixFormat) -> String {
    let names: Vec<String> = network.workloads.iter().map(|workload| workload.label()).collect();
    match format {
        MatrixFormat::Text => text(&names, matrix),
        MatrixFormat::Json => json(&names, matrix),
        MatrixFormat::Dot => dot(network, &names, matrix),
        MatrixFormat::Mermaid => mermaid(&names, matrix),
    }
}

/// Every allowed connection as `(from, to, ports)`.
fn edges(matrix: &[Vec<PortSet>]) -> impl Iterator<Item = (usize, usize, &PortSet)> {
    matrix.iter().enumerate().flat_map(|(from, row)| {
        row.iter().enumerate().filter(|(_, ports)| !ports.is_empty()).map(move |(to, ports)| (from, to, ports))
    })
}

/// Rows are sources, numbered columns are destinations (numbers match the row numbers); a
/// cell shows `all`, `-` (nothing) or the allowed ports.
fn text(names: &[String], matrix: &[Vec<PortSet>]) -> String {
    let cell = |ports: &PortSet| match (ports.is_all(), ports.is_empty()) {
        (true, _) => "all".to_owned(),
        (_, true) => "-".to_owned(),
        _ => ports.to_string(),
    };
    let cells: Vec<Vec<String>> = matrix.iter().map(|row| row.iter().map(cell).collect()).collect();
    let row_heads: Vec<String> = names.iter().enumerate().map(|(i, name)| format!("[{}] {name}", i + 1)).collect();
    let head_width = row_heads.iter().map(String::len).max().unwrap_or(0).max("from \\ to".len());
    let widths: Vec<usize> = (0..names.len())
        .map(|column| cells.iter().map(|row| row[column].len()).max().unwrap_or(0).max(format!("[{}]", column + 1).len()))
        .collect();
    let mut out = String::new();
    let _ = write!(out, "{:head_width$}", "from \\ to");
    for (column, width) in widths.iter().enumerate() {
        let _ = write!(out, "  {:width$}", format!("[{}]", column + 1));
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    for (head, row) in row_heads.iter().zip(&cells) {
        let _ = write!(out, "{head:head_width$}");
        for (value, width) in row.iter().zip(&widths) {
            let _ = write!(out, "  {value:width$}");
        }
        out.truncate(out.trim_end().len());
        out.push('\n');
    }
    out
}

fn json(names: &[String], matrix: &[Vec<PortSet>]) -> String {
    let edges: Vec<serde_json::Value> = edges(matrix)
        .map(|(from, to, ports)| {
            serde_json::json!({"from": names[from], "to": names[to], "allPorts": ports.is_all(), "ports": ports})
        })
        .collect();
    let document = serde_json::json!({"workloads": names, "edges": edges});
    serde_json::to_string_pretty(&document).unwrap_or_default() + "\n"
}

/// One cluster per namespace; edges carry their ports unless every port is allowed.
fn dot(network: &Network<'_>, names: &[String], matrix: &[Vec<PortSet>]) -> String {
    let mut out = String::from("digraph netpol {\n  rankdir=LR;\n  node [shape=box];\n");
    for (cluster, namespace) in network.namespaces.keys().enumerate() {
        let members: Vec<usize> = (0..names.len()).filter(|&i| &network.workloads[i].namespace == namespace).collect();
        if members.is_empty() {
            continue;
        }
        let _ = writeln!(out, "  subgraph cluster_{cluster} {{\n    label={};", quote(namespace));
        for i in members {
            let workload = &network.workloads[i];
            let _ = writeln!(out, "    n{i} [label={}];", quote(&format!("{}/{}", workload.kind, workload.name)));
        }
        out.push_str("  }\n");
    }
    for (from, to, ports) in edges(matrix) {
        if ports.is_all() {
            let _ = writeln!(out, "  n{from} -> n{to};");
        } else {
            let _ = writeln!(out, "  n{from} -> n{to} [label={}];", quote(&ports.to_string()));
        }
    }
    out.push_str("}\n");
    out
}

fn mermaid(names: &[String], matrix: &[Vec<PortSet>]) -> String {
    let mut out = String::from("flowchart LR\n");
    for (i, name) in names.iter().enumerate() {
        let _ = writeln!(out, "  n{i}[{}]", quote(name));
    }
    for (from, to, ports) in edges(matrix) {
        if ports.is_all() {
            let _ = writeln!(out, "  n{from} --> n{to}");
        } else {
            let _ = writeln!(out, "  n{from} -->|{}| n{to}", quote(&ports.to_string()));
        }
    }
    out
}

/// A double-quoted string for DOT and Mermaid. Kubernetes names cannot hold quotes; escaping
/// them anyway keeps hostile input from breaking the graph.
fn quote(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}
