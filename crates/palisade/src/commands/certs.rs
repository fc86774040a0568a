//! `palisade certs`: a private CA and a serving certificate for the webhook's Service, written
//! as PEM files, with the `caBundle` printed for the ValidatingWebhookConfiguration.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use palisade_server::certs::CertRequest;

#[derive(clap::Args, Debug)]
pub struct CertsArgs {
    /// Name of the webhook's Service.
    #[arg(long, default_value = "palisade-admission")]
    pub service: String,

    /// Namespace of the Service.
    #[arg(long, default_value = "palisade-system")]
    pub namespace: String,

    /// Extra DNS names or IP addresses for the serving certificate (repeatable).
    #[arg(long = "name", value_name = "NAME")]
    pub extra_names: Vec<String>,

    /// Days both certificates stay valid.
    #[arg(long, default_value_t = 365)]
    pub days: u64,

    /// Directory for ca.crt, tls.crt and tls.key (created if missing).
    #[arg(long, short = 'o', default_value = ".")]
    pub out_dir: PathBuf,
}

pub fn run(args: CertsArgs) -> anyhow::Result<ExitCode> {
    let request = CertRequest {
        service: args.service,
        namespace: args.namespace,
        extra_names: args.extra_names,
        validity: Duration::from_secs(args.days * 86_400),
    };
    let issued = request.issue()?;
    issued.write_to(&args.out_dir).with_context(|| format!("cannot write the certificates to {}", args.out_dir.display()))?;
    eprintln!(
        "wrote ca.crt, tls.crt and tls.key to {} for {}; the caBundle follows on standard output",
        args.out_dir.display(),
        request.names().join(", ")
    );
    println!("{}", base64(issued.ca_pem.as_bytes()));
    Ok(ExitCode::SUCCESS)
}

/// Standard base64 with padding: the encoding of `caBundle` in webhook configurations.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let value = chunk.iter().enumerate().fold(0u32, |acc, (index, byte)| acc | u32::from(*byte) << (16 - 8 * index));
        for index in 0..4 {
            if index <= chunk.len() {
                out.push(ALPHABET[(value >> (18 - 6 * index) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (input, expected) in [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foobar", "Zm9vYmFy")] {
            assert_eq!(super::base64(input.as_bytes()), expected);
        }
    }
}
