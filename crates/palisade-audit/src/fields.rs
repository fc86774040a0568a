//! The fields a `k8s_audit` rule can read: the k8saudit plugin's `ka.*`, the json plugin's
//! `jevt.*` / `json.*`, and the event-level `evt.*` fields Falco offers for plugin events.
//!
//! Each field follows the plugin's extraction semantics, because rules depend on them:
//! - A field whose value is absent is *missing*: every comparison on it is false (even `!=`),
//!   `exists` is false, and `not` of such a check is true.
//! - A non-audit JSON object (no `auditID`) has no `ka.*` field at all.
//! - Non-string JSON values read as their compact JSON text (`true`, `200`, `{"k":"v"}`).
//! - List fields (`ka.req.pod.containers.image`, ...) yield every value; an empty list is missing.
//!   Per-container lists skip containers that lack the value, except images, where a container
//!   without an image makes the whole field missing (the plugin reads images strictly).
//! - Index arguments (`ka.req.pod.containers.image[0]`) select one array element at every array
//!   on the path, as the plugin does.

use std::borrow::Cow;
use std::sync::LazyLock;

use crate::json::Json;
use crate::parser::Transformer;
use crate::time;

/// One audit event: its JSON, its timestamp (the event time Falco's k8saudit source assigns:
/// `stageTimestamp`, else `requestReceivedTimestamp`, else the time it was read) and its number.
#[derive(Debug)]
pub struct Event<'a> {
    pub json: Json<'a>,
    pub time_ns: i64,
    pub num: u64,
}

impl<'a> Event<'a> {
    pub fn new(json: Json<'a>, num: u64) -> Self {
        let time_ns = ["stageTimestamp", "requestReceivedTimestamp"]
            .iter()
            .find_map(|key| json.get(key).and_then(Json::as_str).and_then(time::parse_rfc3339))
            .unwrap_or_else(time::now_ns);
        Self { json, time_ns, num }
    }
}

/// The values a field extracted from one event.
#[derive(Clone, Debug, PartialEq)]
pub enum Values<'e> {
    Missing,
    One(Cow<'e, str>),
    List(Vec<Cow<'e, str>>),
}

impl<'e> Values<'e> {
    pub fn as_slice(&self) -> &[Cow<'e, str>] {
        match self {
            Values::Missing => &[],
            Values::One(v) => std::slice::from_ref(v),
            Values::List(v) => v,
        }
    }

    /// Falco's rendering in output strings: `<NA>` when missing, `(a,b)` for list fields.
    pub fn render(&self, list: bool) -> String {
        match self {
            Values::Missing => "<NA>".to_string(),
            Values::One(v) if !list => v.to_string(),
            other => format!("({})", other.as_slice().join(",")),
        }
    }
}

/// Which argument a field takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgKind {
    None,
    /// Optional array index.
    Index,
    /// Required key (query parameter, path).
    Key,
    /// Required JSON pointer.
    Pointer,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PodList {
    Regular,
    Init,
    Ephemeral,
}

impl PodList {
    fn key(self) -> &'static str {
        match self {
            PodList::Regular => "containers",
            PodList::Init => "initContainers",
            PodList::Ephemeral => "ephemeralContainers",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Keys(&'static [&'static str]),
    KeysList(&'static [&'static str]),
    UriParam,
    Constant(&'static str),
    Images(PodList),
    Repositories(PodList),
    FirstImage,
    FirstRepository,
    AnyPrivileged,
    /// Values at a path under each container, skipping containers without it.
    PerContainer(PodList, &'static [&'static str]),
    HostPorts(PodList),
    Effective(PodList, &'static str),
    RulesField(&'static str),
    Recursive(&'static [&'static str]),
    HostPathUsed,
    VolumeTypes,
    JsonValue,
    JsonObj,
    RawTime,
    EvtTime,
    EvtTimeS,
    EvtIso,
    EvtNum,
    EvtSource,
}

#[derive(Clone, Debug)]
pub struct FieldInfo {
    pub name: String,
    pub list: bool,
    pub arg: ArgKind,
    pub numeric: bool,
    pub desc: String,
    kind: Kind,
}

fn info(name: &str, kind: Kind, list: bool, arg: ArgKind, desc: &str) -> FieldInfo {
    FieldInfo { name: name.to_string(), list, arg, numeric: false, desc: desc.to_string(), kind }
}

/// Every supported field, in documentation order.
pub static FIELDS: LazyLock<Vec<FieldInfo>> = LazyLock::new(|| {
    use ArgKind as A;
    use Kind as K;
    let mut f = vec![
        info("ka.auditid", K::Keys(&["auditID"]), false, A::None, "The unique id of the audit event"),
        info("ka.stage", K::Keys(&["stage"]), false, A::None, "Stage of the request (e.g. RequestReceived, ResponseComplete)"),
        info("ka.auth.decision", K::Keys(&["annotations", "authorization.k8s.io/decision"]), false, A::None, "The authorization decision"),
        info("ka.auth.reason", K::Keys(&["annotations", "authorization.k8s.io/reason"]), false, A::None, "The authorization reason"),
        info("ka.user.name", K::Keys(&["user", "username"]), false, A::None, "The user name performing the request"),
        info("ka.user.groups", K::KeysList(&["user", "groups"]), true, A::None, "The groups to which the user belongs"),
        info("ka.impuser.name", K::Keys(&["impersonatedUser", "username"]), false, A::None, "The impersonated user name"),
        info("ka.verb", K::Keys(&["verb"]), false, A::None, "The action being performed"),
        info("ka.uri", K::Keys(&["requestURI"]), false, A::None, "The request URI as sent from client to server"),
        info("ka.uri.param", K::UriParam, false, A::Key, "The value of a given query parameter in the uri (ka.uri.param[key])"),
        info("ka.target.name", K::Keys(&["objectRef", "name"]), false, A::None, "The target object name"),
        info("ka.target.namespace", K::Keys(&["objectRef", "namespace"]), false, A::None, "The target object namespace"),
        info("ka.target.resource", K::Keys(&["objectRef", "resource"]), false, A::None, "The target object resource"),
        info("ka.target.subresource", K::Keys(&["objectRef", "subresource"]), false, A::None, "The target object subresource"),
        info("ka.req.binding.subjects", K::KeysList(&["requestObject", "subjects"]), true, A::None, "The subjects linked by a (cluster) role binding"),
        info("ka.req.binding.role", K::Keys(&["requestObject", "roleRef", "name"]), false, A::None, "The role linked by a (cluster) role binding"),
        info("ka.req.binding.subject.has_name", K::Constant("true"), false, A::Key, "Deprecated; always true"),
        info("ka.req.configmap.name", K::Keys(&["objectRef", "name"]), false, A::None, "If the request object is a configmap, its name"),
        info("ka.req.configmap.obj", K::Keys(&["requestObject", "data"]), false, A::None, "If the request object is a configmap, its data"),
        info("ka.req.container.image", K::FirstImage, false, A::None, "Deprecated: the image of the first container"),
        info("ka.req.container.image.repository", K::FirstRepository, false, A::None, "Deprecated: the repository of the first container"),
        info("ka.req.pod.host_ipc", K::Keys(&["requestObject", "spec", "hostIPC"]), false, A::None, "The pod's hostIPC flag"),
        info("ka.req.pod.host_network", K::Keys(&["requestObject", "spec", "hostNetwork"]), false, A::None, "The pod's hostNetwork flag"),
        info("ka.req.container.host_network", K::Keys(&["requestObject", "spec", "hostNetwork"]), false, A::None, "Deprecated alias for ka.req.pod.host_network"),
        info("ka.req.pod.host_pid", K::Keys(&["requestObject", "spec", "hostPID"]), false, A::None, "The pod's hostPID flag"),
        info("ka.req.container.privileged", K::AnyPrivileged, false, A::None, "Deprecated: true if any container is privileged"),
        info("ka.req.pod.run_as_user", K::Keys(&["requestObject", "spec", "securityContext", "runAsUser"]), false, A::None, "The pod-level runAsUser"),
        info("ka.req.pod.run_as_group", K::Keys(&["requestObject", "spec", "securityContext", "runAsGroup"]), false, A::None, "The pod-level runAsGroup"),
        info("ka.req.pod.fs_group", K::Keys(&["requestObject", "spec", "securityContext", "fsGroup"]), false, A::None, "The pod's fsGroup"),
        info("ka.req.pod.supplemental_groups", K::KeysList(&["requestObject", "spec", "securityContext", "supplementalGroups"]), true, A::None, "The pod's supplementalGroups"),
        info("ka.req.role.rules", K::KeysList(&["requestObject", "rules"]), true, A::None, "The rules of a role / cluster role"),
        info("ka.req.role.rules.apiGroups", K::RulesField("apiGroups"), true, A::Index, "The api groups of a role's rules"),
        info("ka.req.role.rules.nonResourceURLs", K::RulesField("nonResourceURLs"), true, A::Index, "The non resource urls of a role's rules"),
        info("ka.req.role.rules.verbs", K::RulesField("verbs"), true, A::Index, "The verbs of a role's rules"),
        info("ka.req.role.rules.resources", K::RulesField("resources"), true, A::Index, "The resources of a role's rules"),
        info("ka.req.service.type", K::Keys(&["requestObject", "spec", "type"]), false, A::None, "The service type"),
        info("ka.req.service.ports", K::Recursive(&["requestObject", "spec", "ports"]), true, A::Index, "The service's ports"),
        info("ka.req.pod.volumes.hostpath", K::Recursive(&["requestObject", "spec", "volumes", "hostPath", "path"]), true, A::Index, "All hostPath paths of the pod's volumes"),
        info("ka.req.volume.hostpath", K::HostPathUsed, false, A::Key, "Deprecated: true if the (prefix*) host path is used by a volume"),
        info("ka.req.pod.volumes.flexvolume_driver", K::Recursive(&["requestObject", "spec", "volumes", "flexVolume", "driver"]), true, A::Index, "All flexvolume drivers of the pod's volumes"),
        info("ka.req.pod.volumes.volume_type", K::VolumeTypes, true, A::Index, "All volume types of the pod's volumes"),
        info("ka.resp.name", K::Keys(&["responseObject", "metadata", "name"]), false, A::None, "The response object name"),
        info("ka.response.code", K::Keys(&["responseStatus", "code"]), false, A::None, "The response code"),
        info("ka.response.reason", K::Keys(&["responseStatus", "reason"]), false, A::None, "The response reason (usually present only for failures)"),
        info("ka.useragent", K::Keys(&["userAgent"]), false, A::None, "The user agent of the client"),
        info("ka.sourceips", K::KeysList(&["sourceIPs"]), true, A::Index, "The IP addresses of the client"),
    ];
    for set in [PodList::Regular, PodList::Init, PodList::Ephemeral] {
        let p = format!("ka.req.pod.{}", set.key());
        let sc = |leaf: &'static [&'static str]| K::PerContainer(set, leaf);
        f.push(info(&format!("{p}.image"), K::Images(set), true, A::Index, "The images of the pod's containers"));
        f.push(info(&format!("{p}.image.repository"), K::Repositories(set), true, A::Index, "The image repositories (no tag or digest)"));
        f.push(info(&format!("{p}.host_port"), K::HostPorts(set), true, A::Index, "The hostPort (or containerPort) values"));
        f.push(info(&format!("{p}.privileged"), sc(&["securityContext", "privileged"]), true, A::Index, "The privileged flags"));
        f.push(info(&format!("{p}.allow_privilege_escalation"), sc(&["securityContext", "allowPrivilegeEscalation"]), true, A::Index, "The allowPrivilegeEscalation flags"));
        f.push(info(&format!("{p}.read_only_fs"), sc(&["securityContext", "readOnlyRootFilesystem"]), true, A::Index, "The readOnlyRootFilesystem flags"));
        f.push(info(&format!("{p}.run_as_user"), sc(&["securityContext", "runAsUser"]), true, A::Index, "The container-level runAsUser values"));
        f.push(info(&format!("{p}.eff_run_as_user"), K::Effective(set, "runAsUser"), true, A::Index, "The effective uid (container, else pod, else 0)"));
        f.push(info(&format!("{p}.run_as_group"), sc(&["securityContext", "runAsGroup"]), true, A::Index, "The container-level runAsGroup values"));
        f.push(info(&format!("{p}.eff_run_as_group"), K::Effective(set, "runAsGroup"), true, A::Index, "The effective gid (container, else pod, else 0)"));
        f.push(info(&format!("{p}.proc_mount"), sc(&["securityContext", "procMount"]), true, A::Index, "The procMount types"));
        f.push(info(&format!("{p}.add_capabilities"), sc(&["securityContext", "capabilities", "add"]), true, A::Index, "The added capabilities"));
    }
    for prefix in ["jevt", "json"] {
        f.push(info(&format!("{prefix}.value"), K::JsonValue, false, A::Pointer, "The value at a JSON pointer (jevt.value[/user/username])"));
        f.push(info(&format!("{prefix}.obj"), K::JsonObj, false, A::None, "The whole event as JSON"));
        f.push(info(&format!("{prefix}.rawtime"), K::RawTime, false, A::None, "The event time in nanoseconds since the epoch"));
    }
    f.push(info("evt.time", K::EvtTime, false, A::None, "The event time, HH:MM:SS.nnnnnnnnn (UTC)"));
    f.push(info("evt.time.s", K::EvtTimeS, false, A::None, "The event time, HH:MM:SS (UTC)"));
    f.push(info("evt.time.iso8601", K::EvtIso, false, A::None, "The event time in ISO 8601"));
    f.push(FieldInfo { numeric: true, ..info("evt.rawtime", K::RawTime, false, A::None, "The event time in nanoseconds") });
    f.push(FieldInfo { numeric: true, ..info("evt.num", K::EvtNum, false, A::None, "The event number") });
    f.push(info("evt.source", K::EvtSource, false, A::None, "The event source (k8s_audit)"));
    f
});

pub fn lookup(name: &str) -> Option<&'static FieldInfo> {
    FIELDS.iter().find(|f| f.name == name)
}

/// A field as used in a condition or output: the field, its argument and transformers.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FieldSpec {
    pub name: String,
    pub arg: Option<String>,
    pub transformers: Vec<Transformer>,
    index: Option<usize>,
    info: usize,
}

impl FieldSpec {
    /// Resolves a field name and argument, checking the argument against what the field takes.
    pub fn new(name: &str, arg: Option<&str>, transformers: &[Transformer]) -> Result<Self, String> {
        let Some(info) = FIELDS.iter().position(|f| f.name == name) else {
            return Err(format!("filter_check called with nonexistent field {name}"));
        };
        let spec = &FIELDS[info];
        let mut index = None;
        match (spec.arg, arg) {
            (ArgKind::None, Some(_)) => return Err(format!("field '{name}' does not take an argument")),
            (ArgKind::Key | ArgKind::Pointer, None) => {
                return Err(format!("field '{name}' requires an argument"));
            }
            (ArgKind::Index, Some(a)) => {
                index = Some(a.parse::<usize>().map_err(|_| {
                    format!("field '{name}': the argument '{a}' is not an array index")
                })?);
            }
            (ArgKind::Pointer, Some(p)) if !p.is_empty() && !p.starts_with('/') => {
                return Err(format!("field '{name}': '{p}' is not a JSON pointer (it must start with '/')"));
            }
            _ => {}
        }
        // Every transformer reads a string (or a list of strings); `len` turns it into a number.
        let mut numeric = spec.numeric;
        for t in transformers {
            if numeric {
                return Err(format!("field '{name}': transformer '{}' needs a string value", transformer_name(*t)));
            }
            numeric = *t == Transformer::Len;
        }
        Ok(Self { name: name.to_string(), arg: arg.map(str::to_string), transformers: transformers.to_vec(), index, info })
    }

    pub fn info(&self) -> &'static FieldInfo {
        &FIELDS[self.info]
    }

    /// Lists stay lists through transformers, except `len`, which counts them.
    pub fn is_list(&self) -> bool {
        self.info().list && !self.transformers.contains(&Transformer::Len)
    }

    pub fn is_numeric(&self) -> bool {
        self.info().numeric || self.transformers.last() == Some(&Transformer::Len)
    }

    /// `name[arg]` as written in rules, used as the key in `output_fields`.
    pub fn display_name(&self) -> String {
        let mut s = match &self.arg {
            Some(arg) => format!("{}[{arg}]", self.name),
            None => self.name.clone(),
        };
        for t in &self.transformers {
            s = format!("{}({s})", transformer_name(*t));
        }
        s
    }

    pub fn extract<'e>(&self, event: &'e Event<'_>) -> Values<'e> {
        let values = extract_raw(self.info().kind, self.arg.as_deref(), self.index, event, self.info().list);
        if self.transformers.is_empty() {
            return values;
        }
        apply_transformers(values, &self.transformers, self.info().list)
    }
}

fn transformer_name(t: Transformer) -> &'static str {
    match t {
        Transformer::ToLower => "tolower",
        Transformer::ToUpper => "toupper",
        Transformer::B64 => "b64",
        Transformer::Basename => "basename",
        Transformer::Len => "len",
    }
}

fn apply_transformers<'e>(mut values: Values<'e>, transformers: &[Transformer], list: bool) -> Values<'e> {
    for t in transformers {
        values = match (values, t) {
            (Values::Missing, _) => return Values::Missing,
            (Values::List(items), Transformer::Len) if list => Values::One(Cow::Owned(items.len().to_string())),
            (Values::One(v), Transformer::Len) if list => Values::One(Cow::Owned(usize::from(!v.is_empty()).to_string())),
            (Values::One(v), t) => match transform_one(&v, *t) {
                Some(v) => Values::One(Cow::Owned(v)),
                None => return Values::Missing,
            },
            (Values::List(items), t) => {
                let mut out = Vec::with_capacity(items.len());
                for item in &items {
                    match transform_one(item, *t) {
                        Some(v) => out.push(Cow::Owned(v)),
                        None => return Values::Missing,
                    }
                }
                Values::List(out)
            }
        };
    }
    values
}

fn transform_one(value: &str, t: Transformer) -> Option<String> {
    Some(match t {
        Transformer::ToLower => value.to_lowercase(),
        Transformer::ToUpper => value.to_uppercase(),
        Transformer::Basename => value.rsplit('/').next().unwrap_or("").to_string(),
        Transformer::Len => value.len().to_string(),
        Transformer::B64 => String::from_utf8(base64_decode(value)?).ok()?,
    })
}

/// Standard base64 (padding optional); `None` on invalid input, which makes the value missing.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let digit = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let bytes = text.trim_end_matches('=').as_bytes();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        if chunk.len() == 1 {
            return None;
        }
        let mut acc = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            acc |= digit(c)? << (18 - 6 * i);
        }
        let n = chunk.len() - 1;
        out.extend_from_slice(&acc.to_be_bytes()[1..=n]);
    }
    Some(out)
}

fn list_or_missing(items: Vec<Cow<'_, str>>) -> Values<'_> {
    if items.is_empty() { Values::Missing } else { Values::List(items) }
}

/// The plugin's recursive walk: at an array with no index, every element continues the walk
/// (a missing value becomes `None`); with an index, only that element does.
fn recursive<'e, 'a>(
    mut value: &'e Json<'a>,
    index: Option<usize>,
    keys: &[&str],
    out: &mut Vec<Option<&'e Json<'a>>>,
) -> bool {
    for (i, key) in keys.iter().enumerate() {
        if let Json::Array(items) = value {
            match index {
                None => {
                    for item in items {
                        let before = out.len();
                        if !recursive(item, index, &keys[i..], out) {
                            out.truncate(before);
                            out.push(None);
                        }
                    }
                    return true;
                }
                Some(n) => match items.get(n) {
                    Some(item) => value = item,
                    None => return false,
                },
            }
        }
        if !key.is_empty() {
            match value.get(key) {
                Some(next) => value = next,
                None => return false,
            }
        }
    }
    out.push(Some(value));
    true
}

fn container_path(set: PodList, leaf: &[&'static str]) -> Vec<&'static str> {
    let mut keys = vec!["requestObject", "spec", set.key()];
    keys.extend_from_slice(leaf);
    keys
}

fn images<'e>(json: &'e Json<'_>, set: PodList, index: Option<usize>) -> Option<Vec<Cow<'e, str>>> {
    let mut found = Vec::new();
    if !recursive(json, index, &container_path(set, &["image"]), &mut found) {
        return None;
    }
    // Strict: one container without an image makes the field unavailable.
    found.into_iter().map(|v| v.map(Json::to_field_string)).collect()
}

fn repository(image: &str) -> &str {
    // The plugin's own split: everything before the first ':' then before the first '@'.
    let before_colon = image.split(':').next().unwrap_or("");
    before_colon.split('@').next().unwrap_or("")
}

fn extract_raw<'e>(kind: Kind, arg: Option<&str>, index: Option<usize>, event: &'e Event<'_>, list: bool) -> Values<'e> {
    let json = &event.json;
    let is_audit = || json.get("auditID").is_some();
    let one = |v: Option<&'e Json<'_>>| v.map_or(Values::Missing, |v| Values::One(v.to_field_string()));
    let skip_nil = |found: Vec<Option<&'e Json<'_>>>| -> Values<'e> {
        list_or_missing(found.into_iter().flatten().map(Json::to_field_string).collect())
    };
    match kind {
        Kind::JsonValue => return one(json.pointer(arg.unwrap_or(""))),
        Kind::JsonObj => return Values::One(Cow::Owned(json.to_string())),
        Kind::RawTime => return Values::One(Cow::Owned(event.time_ns.to_string())),
        Kind::EvtTime => return Values::One(Cow::Owned(time::format_time(event.time_ns))),
        Kind::EvtTimeS => {
            let t = time::format_time(event.time_ns);
            return Values::One(Cow::Owned(t[..8].to_string()));
        }
        Kind::EvtIso => return Values::One(Cow::Owned(time::format_iso8601(event.time_ns))),
        Kind::EvtNum => return Values::One(Cow::Owned(event.num.to_string())),
        Kind::EvtSource => return Values::One(Cow::Borrowed("k8s_audit")),
        _ if !is_audit() => return Values::Missing,
        _ => {}
    }
    match kind {
        Kind::Keys(keys) => one(json.path(keys)),
        Kind::KeysList(keys) => match json.path(keys) {
            Some(Json::Array(items)) if index.is_none() => {
                list_or_missing(items.iter().map(Json::to_field_string).collect())
            }
            Some(Json::Array(items)) => one(items.get(index.unwrap_or(0))).into_list(list),
            _ => Values::Missing,
        },
        Kind::UriParam => {
            let Some(uri) = json.get("requestURI").and_then(Json::as_str) else { return Values::Missing };
            let key = arg.unwrap_or("");
            let query = uri.split_once('?').map_or("", |(_, q)| q);
            let query = query.split('#').next().unwrap_or("");
            query
                .split(['&', ';'])
                .filter_map(|pair| {
                    let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                    (percent_decode(k) == key).then(|| percent_decode(v))
                })
                .next()
                .map_or(Values::Missing, |v| Values::One(Cow::Owned(v)))
        }
        Kind::Constant(value) => Values::One(Cow::Borrowed(value)),
        Kind::Images(set) => images(json, set, index).map_or(Values::Missing, list_or_missing),
        Kind::Repositories(set) => images(json, set, index).map_or(Values::Missing, |imgs| {
            list_or_missing(
                imgs.into_iter()
                    .map(|img| match img {
                        Cow::Borrowed(s) => Cow::Borrowed(repository(s)),
                        Cow::Owned(s) => Cow::Owned(repository(&s).to_string()),
                    })
                    .collect(),
            )
        }),
        Kind::FirstImage => match images(json, PodList::Regular, Some(0)) {
            Some(mut imgs) if !imgs.is_empty() => Values::One(imgs.swap_remove(0)),
            _ => Values::Missing,
        },
        Kind::FirstRepository => match images(json, PodList::Regular, Some(0)) {
            Some(imgs) if !imgs.is_empty() => Values::One(Cow::Owned(repository(&imgs[0]).to_string())),
            _ => Values::Missing,
        },
        Kind::AnyPrivileged => {
            let mut found = Vec::new();
            if !recursive(json, None, &container_path(PodList::Regular, &["securityContext", "privileged"]), &mut found)
            {
                return Values::Missing;
            }
            let any = found.into_iter().flatten().any(|v| *v == Json::Bool(true));
            Values::One(Cow::Borrowed(if any { "true" } else { "false" }))
        }
        Kind::PerContainer(set, leaf) => {
            let mut found = Vec::new();
            if !recursive(json, index, &container_path(set, leaf), &mut found) {
                return Values::Missing;
            }
            skip_nil(found)
        }
        Kind::HostPorts(set) => {
            let mut found = Vec::new();
            if !recursive(json, index, &container_path(set, &["ports"]), &mut found) {
                return Values::Missing;
            }
            let mut out = Vec::new();
            for ports in found.into_iter().flatten() {
                let Json::Array(ports) = ports else { return Values::Missing };
                for port in ports {
                    if let Some(p) = port.get("hostPort").or_else(|| port.get("containerPort")) {
                        out.push(p.to_field_string());
                    }
                }
            }
            list_or_missing(out)
        }
        Kind::Effective(set, key) => {
            let pod = json.path(&["requestObject", "spec", "securityContext", key]).map(Json::to_field_string);
            let mut found = Vec::new();
            if !recursive(json, index, &container_path(set, &["securityContext", key]), &mut found) {
                // No container carries a security context value: each container falls back.
                found.clear();
                let mut containers = Vec::new();
                if !recursive(json, index, &container_path(set, &[]), &mut containers) {
                    return Values::Missing;
                }
                found.resize(containers.len(), None);
            }
            let fallback = pod.unwrap_or(Cow::Borrowed("0"));
            list_or_missing(found.into_iter().map(|v| v.map_or_else(|| fallback.clone(), Json::to_field_string)).collect())
        }
        Kind::RulesField(key) => {
            let mut found = Vec::new();
            if !recursive(json, index, &["requestObject", "rules", key], &mut found) {
                return Values::Missing;
            }
            let mut out = Vec::new();
            for value in found.into_iter().flatten() {
                if let Json::Array(items) = value {
                    out.extend(items.iter().map(Json::to_field_string));
                }
            }
            list_or_missing(out)
        }
        Kind::Recursive(keys) => {
            let mut found = Vec::new();
            if !recursive(json, index, keys, &mut found) {
                return Values::Missing;
            }
            skip_nil(found)
        }
        Kind::HostPathUsed => {
            let mut found = Vec::new();
            if !recursive(json, None, &["requestObject", "spec", "volumes", "hostPath", "path"], &mut found) {
                return Values::Missing;
            }
            let arg = arg.unwrap_or("");
            let prefix = arg.strip_suffix('*');
            let used = found.into_iter().flatten().map(Json::to_field_string).any(|p| match prefix {
                Some(prefix) => p.starts_with(prefix),
                None => p == arg,
            });
            Values::One(Cow::Borrowed(if used { "true" } else { "false" }))
        }
        Kind::VolumeTypes => {
            let mut found = Vec::new();
            if !recursive(json, index, &["requestObject", "spec", "volumes", ""], &mut found) {
                return Values::Missing;
            }
            let mut out = Vec::new();
            for volume in found.into_iter().flatten() {
                if let Json::Object(members) = volume {
                    out.extend(members.iter().filter(|(k, _)| k != "name").map(|(k, _)| Cow::Borrowed(&**k)));
                }
            }
            list_or_missing(out)
        }
        Kind::JsonValue | Kind::JsonObj | Kind::RawTime | Kind::EvtTime | Kind::EvtTimeS | Kind::EvtIso | Kind::EvtNum
        | Kind::EvtSource => unreachable!("handled above"),
    }
}

impl<'e> Values<'e> {
    fn into_list(self, list: bool) -> Values<'e> {
        match self {
            Values::One(v) if list => Values::List(vec![v]),
            other => other,
        }
    }
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(hi), Some(lo)) => {
                    out.push(hi << 4 | lo);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(text: &str) -> Event<'_> {
        Event::new(serde_json::from_str(text).unwrap(), 1)
    }

    fn get<'e>(e: &'e Event<'_>, name: &str, arg: Option<&str>) -> Values<'e> {
        FieldSpec::new(name, arg, &[]).unwrap().extract(e)
    }

    const POD: &str = r#"{"auditID":"1","stage":"ResponseComplete","verb":"create",
        "requestURI":"/api/v1/namespaces/default/pods/p/exec?command=sh&command=-c&container=x%20y",
        "user":{"username":"alice","groups":["a","b"]},
        "objectRef":{"resource":"pods","namespace":"default","name":"p"},
        "responseStatus":{"code":201},
        "requestObject":{"spec":{"hostNetwork":true,"securityContext":{"runAsUser":1000},
          "containers":[{"image":"nginx:1.25","securityContext":{"privileged":true,"runAsUser":7}},
                        {"image":"docker.io/library/busybox@sha256:abc","ports":[{"containerPort":80},{"hostPort":8080}]}],
          "volumes":[{"name":"a","hostPath":{"path":"/etc"}},{"name":"b","emptyDir":{}}]}},
        "stageTimestamp":"2024-01-02T03:04:05.678901Z"}"#;

    #[test]
    fn plugin_semantics_for_scalars() {
        let e = event(POD);
        assert_eq!(get(&e, "ka.user.name", None), Values::One("alice".into()));
        assert_eq!(get(&e, "ka.response.code", None), Values::One("201".into()));
        assert_eq!(get(&e, "ka.req.pod.host_network", None), Values::One("true".into()));
        assert_eq!(get(&e, "ka.target.subresource", None), Values::Missing);
        assert_eq!(get(&e, "ka.uri.param", Some("command")), Values::One("sh".into()));
        assert_eq!(get(&e, "ka.uri.param", Some("container")), Values::One("x y".into()));
        assert_eq!(get(&e, "ka.uri.param", Some("nope")), Values::Missing);
    }

    #[test]
    fn plugin_semantics_for_lists() {
        let e = event(POD);
        let v = get(&e, "ka.req.pod.containers.image.repository", None);
        assert_eq!(v.as_slice(), ["nginx", "docker.io/library/busybox"]);
        assert_eq!(get(&e, "ka.req.pod.containers.image", Some("1")).as_slice(), ["docker.io/library/busybox@sha256:abc"]);
        assert_eq!(get(&e, "ka.req.pod.containers.privileged", None).as_slice(), ["true"]);
        assert_eq!(get(&e, "ka.req.pod.containers.host_port", None).as_slice(), ["80", "8080"]);
        assert_eq!(get(&e, "ka.req.pod.containers.eff_run_as_user", None).as_slice(), ["7", "1000"]);
        assert_eq!(get(&e, "ka.req.pod.volumes.hostpath", None).as_slice(), ["/etc"]);
        assert_eq!(get(&e, "ka.req.pod.volumes.volume_type", None).as_slice(), ["hostPath", "emptyDir"]);
        assert_eq!(get(&e, "ka.req.pod.initContainers.image", None), Values::Missing);
        assert_eq!(get(&e, "ka.user.groups", None).render(true), "(a,b)");
        assert_eq!(get(&e, "ka.req.volume.hostpath", Some("/e*")), Values::One("true".into()));
    }

    #[test]
    fn json_and_event_fields() {
        let e = event(POD);
        assert_eq!(get(&e, "jevt.value", Some("/objectRef/name")), Values::One("p".into()));
        assert_eq!(get(&e, "jevt.value", Some("/responseStatus")), Values::One(r#"{"code":201}"#.into()));
        assert_eq!(get(&e, "evt.time", None), Values::One("03:04:05.678901000".into()));
        assert!(FieldSpec::new("jevt.value", Some("stage"), &[]).is_err());
        assert!(FieldSpec::new("ka.uri.param", None, &[]).is_err());
        assert!(FieldSpec::new("ka.nope", None, &[]).unwrap_err().contains("nonexistent field ka.nope"));
    }

    #[test]
    fn non_audit_json_has_no_ka_fields() {
        let e = event(r#"{"user":{"username":"x"}}"#);
        assert_eq!(get(&e, "ka.user.name", None), Values::Missing);
        assert_eq!(get(&e, "jevt.value", Some("/user/username")), Values::One("x".into()));
    }

    #[test]
    fn transformers() {
        let e = event(POD);
        let spec = FieldSpec::new("ka.user.name", None, &[Transformer::ToUpper]).unwrap();
        assert_eq!(spec.extract(&e), Values::One("ALICE".into()));
        let spec = FieldSpec::new("ka.user.groups", None, &[Transformer::Len]).unwrap();
        assert_eq!(spec.extract(&e), Values::One("2".into()));
        assert_eq!(base64_decode("aGVsbG8="), Some(b"hello".to_vec()));
        assert_eq!(base64_decode("aGVsbG8"), Some(b"hello".to_vec()));
        assert_eq!(base64_decode("a"), None);
    }
}
