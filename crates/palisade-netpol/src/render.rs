//! Renderers for the reachability matrix: a text grid, JSON, Graphviz DOT and Mermaid. Nodes
//! are the workloads, then the outside peers (`world`, the entities and DNS names the policies
//! name).

use std::collections::HashMap;
use std::fmt;
use std::io::{self, Write};

use crate::model::Network;
use crate::ports::PortSet;
use crate::reach::{Matrix, node_label};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatrixFormat {
    Text,
    Json,
    Dot,
    Mermaid,
}

/// Writes `matrix` (as `Network::matrix` computes it, rows = sources) in `format` to `out`, as
/// it goes: a matrix of thousands of workloads has millions of cells, which are never all held
/// as text at once.
pub fn write_matrix(out: &mut dyn Write, network: &Network<'_>, matrix: &Matrix, format: MatrixFormat) -> io::Result<()> {
    let names: Vec<String> = (0..matrix.nodes()).map(|index| node_label(network, matrix.outside(), index)).collect();
    match format {
        MatrixFormat::Text => text(out, &names, matrix),
        MatrixFormat::Json => json(out, &names, matrix),
        MatrixFormat::Dot => dot(out, network, &names, matrix),
        MatrixFormat::Mermaid => mermaid(out, &names, matrix),
    }
}

/// Every allowed connection as `(from, to, ports)`.
fn edges(matrix: &Matrix) -> impl Iterator<Item = (usize, usize, &PortSet)> {
    (0..matrix.nodes()).flat_map(move |from| (0..matrix.nodes()).map(move |to| (from, to, matrix.get(from, to))).filter(|(_, _, ports)| !ports.is_empty()))
}

/// Rows are sources, numbered columns are destinations (numbers match the row numbers); a
/// cell shows `all`, `-` (nothing) or the allowed ports, and is blank between two outside peers.
fn text(out: &mut dyn Write, names: &[String], matrix: &Matrix) -> io::Result<()> {
    let outside = |index: usize| index >= matrix.len();
    let cell = |row: usize, column: usize| {
        let ports = matrix.get(row, column);
        match (ports.is_all(), ports.is_empty()) {
            _ if outside(row) && outside(column) => String::new(),
            (true, _) => "all".to_owned(),
            (_, true) => "-".to_owned(),
            _ => ports.to_string(),
        }
    };
    let row_heads: Vec<String> = names.iter().enumerate().map(|(i, name)| format!("[{}] {name}", i + 1)).collect();
    let head_width = row_heads.iter().map(String::len).max().unwrap_or(0).max("from \\ to".len());
    let widths: Vec<usize> = (0..names.len())
        .map(|column| (0..names.len()).map(|row| cell(row, column).len()).max().unwrap_or(0).max(format!("[{}]", column + 1).len()))
        .collect();
    let mut line = format!("{:head_width$}", "from \\ to");
    for (column, width) in widths.iter().enumerate() {
        let _ = fmt::Write::write_fmt(&mut line, format_args!("  {:width$}", format!("[{}]", column + 1)));
    }
    writeln!(out, "{}", line.trim_end())?;
    for (row, head) in row_heads.iter().enumerate() {
        let mut line = format!("{head:head_width$}");
        for (column, width) in widths.iter().enumerate() {
            let _ = fmt::Write::write_fmt(&mut line, format_args!("  {:width$}", cell(row, column)));
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

/// `{"workloads": [...], "outside": [...], "edges": [...]}`, one name and one edge per line.
/// Names and port sets are encoded once each: cells of a class pair share one port set.
fn json(out: &mut dyn Write, names: &[String], matrix: &Matrix) -> io::Result<()> {
    let encoded: Vec<String> = names.iter().map(|name| serde_json::to_string(name).unwrap_or_default()).collect();
    let (workloads, outside) = encoded.split_at(matrix.len());
    out.write_all(b"{\n")?;
    for (key, list) in [("workloads", workloads), ("outside", outside)] {
        writeln!(out, "  \"{key}\": [")?;
        for (index, name) in list.iter().enumerate() {
            writeln!(out, "    {name}{}", if index + 1 < list.len() { "," } else { "" })?;
        }
        out.write_all(b"  ],\n")?;
    }
    writeln!(out, "  \"edges\": [")?;
    let mut port_sets: HashMap<*const PortSet, String> = HashMap::new();
    let mut first = true;
    for (from, to, ports) in edges(matrix) {
        let ports_json = port_sets.entry(ports as *const PortSet).or_insert_with(|| {
            format!("\"allPorts\":{},\"ports\":{}", ports.is_all(), serde_json::to_string(ports).unwrap_or_default())
        });
        write!(out, "{}    {{\"from\":{},\"to\":{},{ports_json}}}", if first { "" } else { ",\n" }, encoded[from], encoded[to])?;
        first = false;
    }
    writeln!(out, "{}  ]\n}}", if first { "" } else { "\n" })
}

/// One cluster per namespace and one for the outside peers; edges carry their ports unless
/// every port is allowed.
fn dot(out: &mut dyn Write, network: &Network<'_>, names: &[String], matrix: &Matrix) -> io::Result<()> {
    out.write_all(b"digraph netpol {\n  rankdir=LR;\n  node [shape=box];\n")?;
    for (cluster, namespace) in network.namespaces.keys().enumerate() {
        let members: Vec<usize> = (0..matrix.len()).filter(|&i| &network.workloads[i].namespace == namespace).collect();
        if members.is_empty() {
            continue;
        }
        writeln!(out, "  subgraph cluster_{cluster} {{\n    label={};", quote(namespace))?;
        for i in members {
            let workload = &network.workloads[i];
            writeln!(out, "    n{i} [label={}];", quote(&format!("{}/{}", workload.kind, workload.name)))?;
        }
        out.write_all(b"  }\n")?;
    }
    if matrix.nodes() > matrix.len() {
        out.write_all(b"  subgraph cluster_outside {\n    label=\"outside\";\n")?;
        for (i, name) in names.iter().enumerate().skip(matrix.len()) {
            writeln!(out, "    n{i} [label={}, shape=ellipse];", quote(name))?;
        }
        out.write_all(b"  }\n")?;
    }
    for (from, to, ports) in edges(matrix) {
        if ports.is_all() {
            writeln!(out, "  n{from} -> n{to};")?;
        } else {
            writeln!(out, "  n{from} -> n{to} [label={}];", quote(&ports.to_string()))?;
        }
    }
    out.write_all(b"}\n")
}

fn mermaid(out: &mut dyn Write, names: &[String], matrix: &Matrix) -> io::Result<()> {
    out.write_all(b"flowchart LR\n")?;
    for (i, name) in names.iter().enumerate() {
        // Outside peers are stadiums, workloads rectangles.
        if i < matrix.len() {
            writeln!(out, "  n{i}[{}]", quote(name))?;
        } else {
            writeln!(out, "  n{i}([{}])", quote(name))?;
        }
    }
    for (from, to, ports) in edges(matrix) {
        if ports.is_all() {
            writeln!(out, "  n{from} --> n{to}")?;
        } else {
            writeln!(out, "  n{from} -->|{}| n{to}", quote(&ports.to_string()))?;
        }
    }
    Ok(())
}

/// A double-quoted string for DOT and Mermaid. Kubernetes names cannot hold quotes; escaping
/// them anyway keeps hostile input from breaking the graph.
fn quote(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}
