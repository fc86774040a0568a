//! A private CA and a serving certificate for a Kubernetes Service, for webhooks installed
//! without cert-manager (`palisade certs`). Keys are ECDSA P-256, signed with the ring provider.

use std::path::Path;
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType, ExtendedKeyUsagePurpose,
    IsCa, KeyPair, KeyUsagePurpose,
};

use crate::{ServerError, TlsFiles};

/// What to issue.
#[derive(Clone, Debug)]
pub struct CertRequest {
    /// The Service's name and namespace: the certificate names `SERVICE`, `SERVICE.NAMESPACE`,
    /// `SERVICE.NAMESPACE.svc` and `SERVICE.NAMESPACE.svc.cluster.local`, the names the API
    /// server may use to reach a webhook Service.
    pub service: String,
    pub namespace: String,
    /// More DNS names or IP addresses (e.g. `localhost`, `127.0.0.1` for local testing).
    pub extra_names: Vec<String>,
    /// Validity of both certificates from now.
    pub validity: Duration,
}

/// PEM text of the CA certificate (the webhook's `caBundle`), the serving certificate and its
/// private key. The CA's private key is not kept: renewing issues a new CA.
#[derive(Clone, Debug)]
pub struct Issued {
    pub ca_pem: String,
    pub cert_pem: String,
    pub key_pem: String,
}

impl CertRequest {
    /// Every name the serving certificate carries.
    pub fn names(&self) -> Vec<String> {
        let (service, namespace) = (&self.service, &self.namespace);
        let mut names = vec![
            service.clone(),
            format!("{service}.{namespace}"),
            format!("{service}.{namespace}.svc"),
            format!("{service}.{namespace}.svc.cluster.local"),
        ];
        names.extend(self.extra_names.iter().cloned());
        names
    }

    /// Generates a fresh CA and a serving certificate it signs.
    pub fn issue(&self) -> Result<Issued, ServerError> {
        let failed = |error: rcgen::Error| ServerError::Certs(error.to_string());
        // An hour of slack before now absorbs clock skew between this machine and the API server.
        let not_before = time::OffsetDateTime::now_utc() - time::Duration::hours(1);
        let not_after = time::OffsetDateTime::now_utc() + self.validity;

        let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(failed)?;
        ca_params.distinguished_name = name(&format!("palisade-ca {}.{}", self.service, self.namespace));
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        (ca_params.not_before, ca_params.not_after) = (not_before, not_after);
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().map_err(failed)?).map_err(failed)?;

        let mut params = CertificateParams::new(self.names()).map_err(failed)?;
        params.distinguished_name = name(&format!("{}.{}.svc", self.service, self.namespace));
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        (params.not_before, params.not_after) = (not_before, not_after);
        let key = KeyPair::generate().map_err(failed)?;
        let cert = params.signed_by(&key, &ca).map_err(failed)?;
        Ok(Issued { ca_pem: ca.pem(), cert_pem: cert.pem(), key_pem: key.serialize_pem() })
    }
}

impl Issued {
    /// Writes `ca.crt`, `tls.crt` and `tls.key` (owner-only on Unix) into `dir`, creating it;
    /// returns the serving pair's paths.
    pub fn write_to(&self, dir: &Path) -> std::io::Result<TlsFiles> {
        std::fs::create_dir_all(dir)?;
        let files = TlsFiles { cert: dir.join("tls.crt"), key: dir.join("tls.key") };
        write(&dir.join("ca.crt"), &self.ca_pem, false)?;
        write(&files.cert, &self.cert_pem, false)?;
        write(&files.key, &self.key_pem, true)?;
        Ok(files)
    }
}

fn write(path: &Path, text: &str, private: bool) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    std::io::Write::write_all(&mut options.open(path)?, text.as_bytes())
}

fn name(common_name: &str) -> DistinguishedName {
    let mut name = DistinguishedName::new();
    name.push(DnType::OrganizationName, "Palisade");
    name.push(DnType::CommonName, common_name);
    name
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, ServerName, UnixTime};

    #[test]
    fn the_serving_certificate_chains_to_the_ca_for_every_service_name() {
        let request = CertRequest {
            service: "palisade".into(),
            namespace: "palisade-system".into(),
            extra_names: vec!["127.0.0.1".into()],
            validity: Duration::from_secs(365 * 86_400),
        };
        let issued = request.issue().unwrap();
        let ca = CertificateDer::from_pem_slice(issued.ca_pem.as_bytes()).unwrap();
        let leaf = CertificateDer::from_pem_slice(issued.cert_pem.as_bytes()).unwrap();
        let mut roots = rustls::RootCertStore::empty();
        roots.add(ca).unwrap();
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let verifier =
            rustls::client::WebPkiServerVerifier::builder_with_provider(roots.into(), provider.clone()).build().unwrap();
        use rustls::client::danger::ServerCertVerifier;
        for host in ["palisade.palisade-system.svc", "palisade.palisade-system.svc.cluster.local", "127.0.0.1"] {
            let server_name = ServerName::try_from(host).unwrap();
            verifier.verify_server_cert(&leaf, &[], &server_name, &[], UnixTime::now()).unwrap_or_else(|e| panic!("{host}: {e}"));
        }
        let other = ServerName::try_from("other.palisade-system.svc").unwrap();
        assert!(verifier.verify_server_cert(&leaf, &[], &other, &[], UnixTime::now()).is_err());
        // The key matches the certificate in the form the server loads it, and stays private.
        let dir = tempfile::tempdir().unwrap();
        let files = issued.write_to(&dir.path().join("certs")).unwrap();
        crate::load_certified_key(&files, &provider).unwrap();
        assert_eq!(std::fs::read_to_string(dir.path().join("certs/ca.crt")).unwrap(), issued.ca_pem);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&files.key).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }
}
