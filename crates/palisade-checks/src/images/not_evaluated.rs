//! `image/not-evaluated`: an image a workload runs could not be read.

use palisade_core::{RuleMeta, Severity};

pub static META: RuleMeta = RuleMeta {
    id: "image/not-evaluated",
    title: "Image could not be inventoried",
    severity: Severity::Info,
    doc: r#"## What it does
With `palisade scan --images`, reports each container whose image could not be read: the
registry refused the credentials, the tag does not exist, the registry was unreachable, or the
image's layers are malformed. The message names the image and the reason.

## Why is this bad?
An image that was not read was not checked: nothing is known of what it contains. Palisade
never counts such an image as passed, so a scan that could not reach a registry does not look
like a clean one.

## How to fix
Give the scan access to the registry (`--username` with `--password-stdin`, or
`~/.docker/config.json`), correct the reference, or exclude the workload with an exception if
its image is scanned elsewhere.

## Example
```yaml
spec:
  containers:
  - name: web
    image: registry.example/private/web:1.4   # not evaluated: unauthorized
```
"#,
    remediation: "Give the scan access to the registry, or correct the image reference.",
    controls: &[],
};
