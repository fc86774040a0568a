//! The kube-apiserver audit Policy that Falco's k8s audit rules need.
//!
//! What the rules read decides each level: pod-creation rules read the request body
//! (`requestObject.spec`) and the created name (`responseObject.metadata.name`), so pods are
//! logged at RequestResponse; exec/attach/port-forward rules fire on the `ResponseStarted` stage
//! of those subresources, so that stage is kept; RBAC, service, ingress, configmap and
//! ephemeral-container rules read request bodies (Request); secrets are only ever logged at
//! Metadata so that no secret value reaches the audit log. High-volume reads that no rule uses
//! are dropped first, because the webhook backend batches every logged event.

/// The recommended Policy, as YAML.
pub const RECOMMENDED_POLICY: &str = r#"# Audit policy for palisade audit / Falco's k8s_audit rules.
# kube-apiserver flags: --audit-policy-file=<this file>
#   and either --audit-log-path=<file> (palisade audit --follow FILE)
#   or --audit-webhook-config-file=<kubeconfig pointing at https://<palisade>/k8s-audit>
apiVersion: audit.k8s.io/v1
kind: Policy
# RequestReceived duplicates every request; ResponseStarted is kept for exec/attach/port-forward.
omitStages:
  - RequestReceived
rules:
  # Noise no rule reads: leader election, node heartbeats, events, health probes.
  - level: None
    resources:
      - group: coordination.k8s.io
        resources: ["leases"]
      - group: ""
        resources: ["events"]
      - group: events.k8s.io
        resources: ["events"]
  - level: None
    users: ["system:kube-proxy"]
    verbs: ["watch"]
    resources:
      - group: ""
        resources: ["endpoints", "services", "services/status"]
  - level: None
    nonResourceURLs: ["/healthz*", "/livez*", "/readyz*"]
    userGroups: ["system:authenticated"]
  # Secrets: metadata only, never bodies (K8s Secret Created/Deleted/Get rules need no more).
  - level: Metadata
    resources:
      - group: ""
        resources: ["secrets", "serviceaccounts/token"]
  # Exec, attach and port-forward: the rules match the ResponseStarted stage.
  - level: RequestResponse
    resources:
      - group: ""
        resources: ["pods/exec", "pods/attach", "pods/portforward"]
  # Pod creation rules read the pod spec and the created pod's name.
  - level: RequestResponse
    verbs: ["create", "update", "patch", "delete"]
    resources:
      - group: ""
        resources: ["pods", "pods/ephemeralcontainers"]
  # Bodies read by the RBAC, service, ingress, namespace, node and configmap rules.
  - level: Request
    verbs: ["create", "update", "patch", "delete", "deletecollection"]
    resources:
      - group: ""
        resources: ["configmaps", "services", "namespaces", "serviceaccounts", "nodes"]
      - group: rbac.authorization.k8s.io
        resources: ["roles", "rolebindings", "clusterroles", "clusterrolebindings"]
      - group: networking.k8s.io
        resources: ["ingresses"]
      - group: apps
        resources: ["deployments", "daemonsets", "statefulsets", "replicasets"]
  # Everything else, including reads by unexpected users and anonymous requests: metadata.
  - level: Metadata
"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> Vec<palisade_core::Node> {
        let docs = palisade_load::yaml::parse_documents(RECOMMENDED_POLICY, &Default::default());
        let root = docs.into_iter().next().unwrap().result.unwrap();
        assert_eq!(root.get("kind").and_then(|k| k.as_str()), Some("Policy"));
        root.get("rules").unwrap().as_seq().to_vec()
    }

    /// The level of the first rule naming `resource` (policy rules match first-to-last).
    fn level_of(resource: &str) -> String {
        rules()
            .iter()
            .find(|r| {
                r.get("resources").is_some_and(|groups| {
                    groups.as_seq().iter().any(|g| {
                        g.get("resources").is_some_and(|rs| rs.as_seq().iter().any(|x| x.as_str() == Some(resource)))
                    })
                })
            })
            .and_then(|r| r.get("level").and_then(|l| l.as_str()).map(str::to_string))
            .unwrap()
    }

    #[test]
    fn levels_match_what_the_rules_read() {
        assert_eq!(level_of("secrets"), "Metadata");
        assert_eq!(level_of("pods/exec"), "RequestResponse");
        assert_eq!(level_of("pods"), "RequestResponse");
        assert_eq!(level_of("clusterroles"), "Request");
        assert_eq!(level_of("ingresses"), "Request");
        let last = rules().pop().unwrap();
        assert_eq!(last.get("level").and_then(|l| l.as_str()), Some("Metadata"));
    }
}
