//! The cluster source against a fake HTTPS API server: pagination, the concurrency bound,
//! forbidden and slow lists as not evaluated, namespace narrowing, and report writing.

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use palisade_cluster::{Cluster, ConnectOptions, ListOptions, Progress, RESOURCES};
use serde_json::json;
use support::{CONTEXT, FakeApi, Reply, item};

/// Every collection path the scanner lists, served empty unless `overrides` says otherwise.
fn lists(namespaces: &[&str], overrides: Vec<(String, Reply)>) -> BTreeMap<String, Reply> {
    let mut lists = BTreeMap::new();
    for resource in RESOURCES {
        lists.insert(resource.path(None), Reply::Items(Vec::new()));
        for namespace in namespaces {
            lists.insert(resource.path(Some(namespace)), Reply::Items(Vec::new()));
        }
    }
    lists.extend(overrides);
    lists
}

fn pods(namespace: &str, count: usize) -> Vec<serde_json::Value> {
    (0..count)
        .map(|i| item(Some(namespace), &format!("pod-{i}"), json!({"spec": {"containers": [{"name": "c", "image": "nginx"}]}})))
        .collect()
}

fn connect(api: &FakeApi) -> Cluster {
    Cluster::connect(&ConnectOptions { kubeconfig: Some(api.kubeconfig.clone()), context: None }).unwrap()
}

#[derive(Default)]
struct Recorder(std::sync::Mutex<(usize, Vec<String>)>);

impl Progress for Recorder {
    fn start(&self, lists: usize) {
        self.0.lock().unwrap().0 = lists;
    }
    fn finished(&self, list: &str, _objects: usize) {
        self.0.lock().unwrap().1.push(list.to_owned());
    }
}

#[test]
fn every_page_is_read_and_unreadable_lists_are_not_evaluated() {
    let api = FakeApi::start(lists(
        &[],
        vec![
            ("/api/v1/namespaces".into(), Reply::Items(vec![
                item(None, "shop", json!({"metadata": {"labels": {"pod-security.kubernetes.io/enforce": "restricted"}}})),
                item(None, "dev", json!({})),
            ])),
            ("/api/v1/pods".into(), Reply::Items(pods("shop", 7))),
            ("/apis/apps/v1/deployments".into(), Reply::Items(vec![item(
                Some("shop"),
                "web",
                json!({"metadata": {"managedFields": [{"manager": "kubectl"}]}, "spec": {"replicas": 2}}),
            )])),
            ("/apis/rbac.authorization.k8s.io/v1/clusterroles".into(), Reply::Forbidden),
            ("/apis/batch/v1/cronjobs".into(), Reply::Slow(Duration::from_secs(3), Vec::new())),
        ],
    ));
    let cluster = connect(&api);
    assert_eq!(cluster.context(), CONTEXT);
    let options = ListOptions { page_size: 3, concurrency: 2, list_timeout: Duration::from_millis(1500), ..ListOptions::default() };
    let progress = Recorder::default();
    let snapshot = cluster.snapshot(&options, &progress);

    // 7 pods in pages of 3: three requests, the later ones with the server's (opaque) continue
    // token for offsets 3 and 6.
    let pod_requests = api.recorded_for("/api/v1/pods");
    assert_eq!(pod_requests.len(), 3, "{pod_requests:?}");
    assert!(pod_requests[0].uri.contains("limit=3") && pod_requests[0].continue_token.is_none(), "{pod_requests:?}");
    let offsets: Vec<Option<usize>> = pod_requests[1..].iter().map(|r| r.continue_token.as_deref().and_then(support::continue_offset)).collect();
    assert_eq!(offsets, [Some(3), Some(6)], "{pod_requests:?}");
    assert_eq!(pod_requests.iter().map(|r| r.items).collect::<Vec<_>>(), [3, 3, 1]);

    let count = |kind: &str| snapshot.objects.iter().filter(|o| o.kind() == kind).count();
    assert_eq!((count("Namespace"), count("Pod"), count("Deployment")), (2, 7, 1));
    let deployment = snapshot.objects.iter().find(|o| o.kind() == "Deployment").unwrap();
    assert_eq!(deployment.api_version(), "apps/v1");
    assert!(deployment.metadata().unwrap().get("managedFields").is_none());
    assert_eq!(&*deployment.origin.file, "cluster://fake-ctx/deployments.apps");
    let pod_names: Vec<&str> = snapshot.objects.iter().filter(|o| o.kind() == "Pod").map(|o| o.name()).collect();
    assert_eq!(pod_names, ["pod-0", "pod-1", "pod-2", "pod-3", "pod-4", "pod-5", "pod-6"]);

    let reasons: Vec<String> = snapshot.not_evaluated.iter().map(ToString::to_string).collect();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert!(reasons[0].starts_with("not evaluated: clusterroles.rbac.authorization.k8s.io: 403 Forbidden: clusterroles is forbidden"), "{reasons:?}");
    assert_eq!(reasons[1], "not evaluated: cronjobs.batch: timed out after 1.5s");
    assert_eq!(snapshot.lists, RESOURCES.len() - 2);
    assert_eq!(api.max_in_flight(), 2, "the concurrency bound holds and is used");
    let (total, finished) = progress.0.into_inner().unwrap();
    assert_eq!((total, finished.len()), (RESOURCES.len(), RESOURCES.len()));
}

#[test]
fn namespaces_narrow_namespaced_lists_and_namespace_objects() {
    let api = FakeApi::start(lists(
        &["shop"],
        vec![
            ("/api/v1/namespaces".into(), Reply::Items(vec![item(None, "shop", json!({})), item(None, "dev", json!({}))])),
            ("/api/v1/namespaces/shop/pods".into(), Reply::Items(pods("shop", 2))),
            ("/api/v1/pods".into(), Reply::Forbidden),
        ],
    ));
    let options = ListOptions { namespaces: vec!["shop".into()], ..ListOptions::default() };
    let snapshot = connect(&api).snapshot(&options, &palisade_cluster::Quiet);
    assert!(snapshot.not_evaluated.is_empty(), "{:?}", snapshot.not_evaluated);
    let names: Vec<(&str, &str)> = snapshot.objects.iter().map(|o| (o.kind(), o.name())).collect();
    assert_eq!(names, [("Namespace", "shop"), ("Pod", "pod-0"), ("Pod", "pod-1")]);
    assert!(api.requests().iter().all(|r| !r.starts_with("GET /api/v1/pods")));
}

#[test]
fn reports_are_written_by_server_side_apply() {
    let api = FakeApi::start(BTreeMap::new());
    let reports = [
        json!({"apiVersion": "wgpolicyk8s.io/v1alpha2", "kind": "PolicyReport",
               "metadata": {"name": "palisade", "namespace": "shop"}, "results": []}),
        json!({"apiVersion": "wgpolicyk8s.io/v1alpha2", "kind": "ClusterPolicyReport",
               "metadata": {"name": "palisade"}, "results": []}),
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}),
    ];
    let errors = connect(&api).apply_reports(&reports);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains("ConfigMap x: not a PolicyReport"));
    let applied = api.applied();
    let paths: Vec<&String> = applied.keys().collect();
    assert_eq!(paths, [
        "/apis/wgpolicyk8s.io/v1alpha2/clusterpolicyreports/palisade",
        "/apis/wgpolicyk8s.io/v1alpha2/namespaces/shop/policyreports/palisade",
    ]);
    let patch = api.requests().into_iter().find(|r| r.starts_with("PATCH")).unwrap();
    assert!(patch.contains("fieldManager=palisade") && patch.contains("force=true"), "{patch}");
}

#[test]
fn a_missing_kubeconfig_names_the_file() {
    let error = Cluster::connect(&ConnectOptions { kubeconfig: Some("/nonexistent/kubeconfig".into()), context: None })
        .err()
        .unwrap();
    assert!(error.to_string().contains("/nonexistent/kubeconfig"), "{error}");
}

#[test]
fn cilium_policies_are_read_where_cilium_is_installed_and_their_absence_is_no_gap() {
    let mut without_cilium = lists(&[], Vec::new());
    without_cilium.retain(|path, _| !path.starts_with("/apis/cilium.io/"));
    let api = FakeApi::start(without_cilium);
    let snapshot = connect(&api).snapshot(&ListOptions::default(), &palisade_cluster::Quiet);
    assert!(snapshot.not_evaluated.is_empty(), "a server without Cilium (404) has no Cilium policies: {:?}", snapshot.not_evaluated);
    assert!(api.requests().iter().any(|request| request.starts_with("GET /apis/cilium.io/v2/ciliumnetworkpolicies")));

    let policy = item(Some("shop"), "dev-egress", json!({"spec": {"endpointSelector": {}, "egress": [{"toEndpoints": [{}]}]}}));
    let api = FakeApi::start(lists(&[], vec![("/apis/cilium.io/v2/ciliumnetworkpolicies".into(), Reply::Items(vec![policy]))]));
    let snapshot = connect(&api).snapshot(&ListOptions::default(), &palisade_cluster::Quiet);
    let policy = snapshot.objects.iter().find(|object| object.kind() == "CiliumNetworkPolicy").expect("the listed policy");
    assert_eq!((policy.api_version(), policy.name()), ("cilium.io/v2", "dev-egress"));
    // Any other failure of those lists is a gap, as for every kind.
    let api = FakeApi::start(lists(&[], vec![("/apis/cilium.io/v2/ciliumclusterwidenetworkpolicies".into(), Reply::Forbidden)]));
    let snapshot = connect(&api).snapshot(&ListOptions::default(), &palisade_cluster::Quiet);
    assert_eq!(snapshot.not_evaluated.len(), 1);
    assert!(snapshot.not_evaluated[0].to_string().contains("ciliumclusterwidenetworkpolicies.cilium.io: 403"), "{:?}", snapshot.not_evaluated);
}
