//! `image/inventory`: what is installed in the image a container runs.

use palisade_core::{RuleMeta, Severity};

pub static META: RuleMeta = RuleMeta {
    id: "image/inventory",
    title: "Image inventoried",
    severity: Severity::Info,
    doc: r#"## What it does
With `palisade scan --images`, reads each distinct image that a pod template runs (once, however
many workloads use it), resolves its tag to a digest, and lists what is installed in it: the
operating system, OS packages (dpkg, apk, RPM) and language packages (Python, Node, Go, Java,
Rust, Ruby, PHP, .NET). Each container that runs the image gets one informational finding that
names the digest, the distribution and the package counts, at the line of its `image:` field.

## Why is this bad?
It is not: the finding is the link between a workload and the inventory of what it runs, so
that reports, exceptions and later vulnerability matching can point at the exact container.
Knowing the digest behind a tag also shows what a mutable tag resolved to at scan time.

## How to fix
Nothing to fix. Write the inventories as SBOMs with `--sbom-dir DIR`, or one image's with
`palisade sbom IMAGE`.

## Example
```yaml
spec:
  containers:
  - name: web
    image: registry.example/shop/web:1.4   # inventoried: debian 12, 97 packages
```
"#,
    remediation: "Nothing to fix; write SBOMs with --sbom-dir or `palisade sbom IMAGE`.",
    controls: &[],
};
