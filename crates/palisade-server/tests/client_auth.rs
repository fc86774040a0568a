//! Client authentication over real TLS on 127.0.0.1: client certificates verified against the
//! client CA, bearer tokens from a file, probes open, `/metrics` behind the same check.

use std::sync::Arc;
use std::time::Duration;

use axum::routing::get;
use axum::{Extension, Router};
use palisade_server::certs::CertRequest;
use palisade_server::{ClientAuth, ClientIdentity, Principal, Server, ServerOptions, TlsFiles, TokenFile};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair};
use ureq::tls::{Certificate, ClientCert, PrivateKey, RootCerts, TlsConfig};

/// A client CA able to sign client certificates.
struct ClientCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl ClientCa {
    fn new(name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        Self { issuer: CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap() }
    }

    /// A client certificate for `common_name`, as ureq presents it.
    fn client(&self, common_name: &str) -> ClientCert {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, common_name);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        let chain = [Certificate::from_der(cert.der()).to_owned()];
        ClientCert::new_with_certs(&chain, PrivateKey::from_pem(key.serialize_pem().as_bytes()).unwrap().to_owned())
    }
}

fn agent(server_ca: &str, client: Option<ClientCert>) -> ureq::Agent {
    let ca = Certificate::from_pem(server_ca.as_bytes()).unwrap().to_owned();
    let tls = TlsConfig::builder().root_certs(RootCerts::Specific(Arc::new(vec![ca]))).client_cert(client).build();
    ureq::Agent::config_builder()
        .tls_config(tls)
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(5)))
        .build()
        .into()
}

#[test]
fn certificates_and_bearer_tokens_authenticate_while_probes_stay_open() {
    let dir = tempfile::tempdir().unwrap();
    let request = CertRequest {
        service: "test".into(),
        namespace: "default".into(),
        extra_names: vec!["localhost".into()],
        validity: Duration::from_secs(3600),
    };
    let issued = request.issue().unwrap();
    let tls: TlsFiles = issued.write_to(dir.path()).unwrap();
    let client_ca = ClientCa::new("client-ca");
    let ca_path = dir.path().join("client-ca.crt");
    std::fs::write(&ca_path, client_ca.issuer.pem()).unwrap();
    let tokens_path = dir.path().join("tokens.csv");
    std::fs::write(&tokens_path, "s3cret-token,audit-webhook,1\n").unwrap();
    let auth = ClientAuth {
        allowed_names: vec!["kube-apiserver".into()],
        tokens: Some(Arc::new(TokenFile::load(&tokens_path).unwrap())),
    };
    let options = ServerOptions { client_ca: Some(ca_path), metrics_auth: Some(auth.clone()), ..ServerOptions::default() };

    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let server = runtime.block_on(Server::bind("127.0.0.1:0".parse().unwrap(), &tls, options)).unwrap();
    let base = format!("https://localhost:{}", server.local_addr().port());
    let whoami = Router::new().route(
        "/whoami",
        get(|Extension(principal): Extension<Principal>, Extension(identity): Extension<ClientIdentity>| async move {
            assert!(identity.peer.ip().is_loopback());
            principal.0
        }),
    );
    let app = auth.protect(whoami).route(
        "/identity",
        get(|Extension(identity): Extension<ClientIdentity>| async move { format!("{:?}", identity.certificate_name) }),
    );
    runtime.spawn(server.run(app, std::future::pending()));

    let call = |agent: &ureq::Agent, path: &str, token: Option<&str>| {
        let mut request = agent.get(format!("{base}{path}"));
        if let Some(token) = token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        let mut response = request.call().unwrap();
        (response.status().as_u16(), response.body_mut().read_to_string().unwrap())
    };
    let anonymous = agent(&issued.ca_pem, None);
    let apiserver = agent(&issued.ca_pem, Some(client_ca.client("kube-apiserver")));
    let intruder = agent(&issued.ca_pem, Some(client_ca.client("intruder")));

    // Probes work without a certificate, as kubelet calls them.
    assert_eq!(call(&anonymous, "/healthz", None).0, 200);
    assert_eq!(call(&anonymous, "/identity", None), (200, "None".into()));
    assert_eq!(call(&intruder, "/identity", None), (200, "Some(\"intruder\")".into()));

    assert_eq!(call(&anonymous, "/whoami", None).0, 401);
    assert_eq!(call(&apiserver, "/whoami", None), (200, "kube-apiserver".into()));
    assert_eq!(call(&intruder, "/whoami", None).0, 401, "a verified certificate with a name not allowed");
    assert_eq!(call(&anonymous, "/whoami", Some("s3cret-token")), (200, "audit-webhook".into()));
    assert_eq!(call(&anonymous, "/whoami", Some("s3cret-tokem")).0, 401);
    assert_eq!(call(&intruder, "/whoami", Some("s3cret-token")), (200, "audit-webhook".into()));

    // A certificate from another CA fails the handshake itself.
    let stranger = agent(&issued.ca_pem, Some(ClientCa::new("other-ca").client("kube-apiserver")));
    assert!(stranger.get(format!("{base}/healthz")).call().is_err());

    assert_eq!(call(&anonymous, "/metrics", None).0, 401);
    let (status, text) = call(&apiserver, "/metrics", None);
    assert_eq!(status, 200);
    assert!(text.contains("palisade_http_requests_total{route=\"/whoami\",status=\"401\"} 3"), "{text}");
}
