//! Layers applied in order: whiteouts and opaque directories hide what lower layers wrote, later
//! entries replace earlier ones, and a path under a symlinked directory lands where the link
//! points (as container runtimes extract it).

use std::collections::{BTreeMap, HashMap};

use crate::layer::{Kind, LayerAnalysis};

/// Where each path of the final filesystem comes from: (layer, entry in that layer).
pub(crate) type View = BTreeMap<String, (usize, usize)>;

/// The final symlinks: path → target as written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SymlinkTable {
    links: BTreeMap<String, String>,
}

impl SymlinkTable {
    /// The symlinks, by absolute path, with their targets as written (relative or absolute).
    pub fn links(&self) -> &BTreeMap<String, String> {
        &self.links
    }

    /// Where `path` leads once every symlink on the way (the last component included) is
    /// followed, inside the filesystem's root (`..` stops at `/`). Errors after `max_hops`
    /// links: a loop, or a chain too long.
    pub fn resolve(&self, path: &str, max_hops: usize) -> Result<String, String> {
        resolve_path(path, |link| self.links.get(link).map(String::as_str), max_hops, true)
    }

    pub(crate) fn insert(&mut self, path: String, target: String) {
        self.links.insert(path, target);
    }
}

/// Joins a symlink target to the directory holding the link and normalises, clamping `..` at
/// the root as a chroot does.
fn link_destination(link: &str, target: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    if !target.starts_with('/') {
        parts.extend(link.split('/').filter(|part| !part.is_empty()));
        parts.pop();
    }
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            part => parts.push(part),
        }
    }
    let mut path = String::new();
    for part in parts {
        path.push('/');
        path.push_str(part);
    }
    if path.is_empty() { "/".to_owned() } else { path }
}

/// Follows symlinks in the directories of `path` (and in its last component when
/// `follow_last`), looking links up with `link_of`.
pub(crate) fn resolve_path<'a>(path: &str, link_of: impl Fn(&str) -> Option<&'a str>, max_hops: usize, follow_last: bool) -> Result<String, String> {
    let mut current = path.to_owned();
    let mut hops = 0;
    'restart: loop {
        let mut end = 0;
        while end < current.len() {
            end = current[end + 1..].find('/').map_or(current.len(), |at| end + 1 + at);
            if end == current.len() && !follow_last {
                break;
            }
            let prefix = &current[..end];
            if let Some(target) = link_of(prefix) {
                hops += 1;
                if hops > max_hops {
                    return Err(format!("{path}: more than {max_hops} symlinks to follow (a loop?)"));
                }
                let destination = link_destination(prefix, target);
                let rest = &current[end..];
                current = if destination == "/" && !rest.is_empty() { rest.to_owned() } else { format!("{destination}{rest}") };
                continue 'restart;
            }
        }
        return Ok(current);
    }
}

/// Applies the layers in order; returns the final view and the problems met (symlink loops in
/// a path's directories).
pub(crate) fn squash<F>(layers: &[LayerAnalysis<F>], max_hops: usize) -> (View, SymlinkTable, Vec<(usize, String, String)>) {
    let mut view = View::new();
    // Symlinks currently in the view, to place paths written under symlinked directories.
    let mut links: HashMap<String, String> = HashMap::new();
    let mut problems = Vec::new();
    for (layer_index, layer) in layers.iter().enumerate() {
        let place = |path: &str, links: &HashMap<String, String>, problems: &mut Vec<(usize, String, String)>| {
            if links.is_empty() {
                return path.to_owned();
            }
            resolve_path(path, |link| links.get(link).map(String::as_str), max_hops, false).unwrap_or_else(|message| {
                problems.push((layer_index, path.to_owned(), message));
                path.to_owned()
            })
        };
        for whiteout in &layer.whiteouts {
            let path = place(whiteout, &links, &mut problems);
            remove(&mut view, &mut links, &path, true);
        }
        for opaque in &layer.opaques {
            let path = place(opaque, &links, &mut problems);
            remove(&mut view, &mut links, &path, false);
        }
        for (entry_index, entry) in layer.entries.iter().enumerate() {
            let path = place(&entry.path, &links, &mut problems);
            if entry.kind != Kind::Directory {
                remove(&mut view, &mut links, &path, false);
            }
            match (entry.kind, &entry.target) {
                (Kind::Symlink, Some(target)) => {
                    links.insert(path.clone(), target.clone());
                }
                _ => {
                    links.remove(&path);
                }
            }
            view.insert(path, (layer_index, entry_index));
        }
    }
    let mut table = SymlinkTable::default();
    for (path, target) in links {
        table.insert(path, target);
    }
    (view, table, problems)
}

/// Removes what is below `path` (and `path` itself when `itself`).
fn remove(view: &mut View, links: &mut HashMap<String, String>, path: &str, itself: bool) {
    if itself {
        view.remove(path);
        links.remove(path);
    }
    let prefix = if path == "/" { "/".to_owned() } else { format!("{path}/") };
    let below: Vec<String> = view.range(prefix.clone()..).take_while(|(key, _)| key.starts_with(&prefix)).map(|(key, _)| key.clone()).collect();
    for key in below {
        view.remove(&key);
        links.remove(&key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::LayerEntry;

    fn entry(path: &str, kind: Kind, target: Option<&str>) -> LayerEntry<()> {
        LayerEntry { path: path.to_owned(), kind, target: target.map(str::to_owned), size: 0, mode: 0o644, facts: None, issue: None }
    }

    fn layer(entries: Vec<LayerEntry<()>>, whiteouts: &[&str], opaques: &[&str]) -> LayerAnalysis<()> {
        LayerAnalysis {
            entries,
            whiteouts: whiteouts.iter().map(|path| (*path).to_owned()).collect(),
            opaques: opaques.iter().map(|path| (*path).to_owned()).collect(),
            issues: Vec::new(),
            bytes: 0,
        }
    }

    #[test]
    fn whiteouts_opaques_and_replacements() {
        let layers = vec![
            layer(
                vec![
                    entry("/etc", Kind::Directory, None),
                    entry("/etc/a", Kind::File, None),
                    entry("/etc/b", Kind::File, None),
                    entry("/opt", Kind::Directory, None),
                    entry("/opt/x", Kind::File, None),
                    entry("/usr/lib", Kind::Directory, None),
                    entry("/lib", Kind::Symlink, Some("usr/lib")),
                    entry("/data", Kind::Directory, None),
                    entry("/data/keep", Kind::File, None),
                ],
                &[],
                &[],
            ),
            layer(
                vec![entry("/opt/y", Kind::File, None), entry("/etc/b", Kind::File, None), entry("/lib/libz.so", Kind::File, None), entry("/data", Kind::File, None)],
                &["/etc/a"],
                &["/opt"],
            ),
        ];
        let (view, links, problems) = squash(&layers, 40);
        let paths: Vec<(&str, usize)> = view.iter().map(|(path, (layer, _))| (path.as_str(), *layer)).collect();
        assert_eq!(
            paths,
            vec![("/data", 1), ("/etc", 0), ("/etc/b", 1), ("/lib", 0), ("/opt", 0), ("/opt/y", 1), ("/usr/lib", 0), ("/usr/lib/libz.so", 1)]
        );
        assert!(problems.is_empty());
        assert_eq!(links.resolve("/lib/libz.so", 40).unwrap(), "/usr/lib/libz.so");
    }

    #[test]
    fn symlink_loops_stop() {
        let mut table = SymlinkTable::default();
        table.insert("/a".into(), "b".into());
        table.insert("/b".into(), "/a".into());
        table.insert("/up".into(), "../../../etc".into());
        let error = table.resolve("/a/file", 40).unwrap_err();
        assert!(error.contains("more than 40 symlinks"), "{error}");
        assert_eq!(table.resolve("/up/passwd", 40).unwrap(), "/etc/passwd");

        let layers = vec![layer(vec![entry("/a", Kind::Symlink, Some("b")), entry("/b", Kind::Symlink, Some("a")), entry("/a/x", Kind::File, None)], &[], &[])];
        let (view, _, problems) = squash(&layers, 40);
        assert_eq!(problems.len(), 1);
        assert!(view.contains_key("/a/x"));
    }
}
