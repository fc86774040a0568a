//! `palisade sbom SOURCE`: what is installed in an image, root filesystem or project, as a
//! CycloneDX or SPDX SBOM, a table or Palisade's JSON.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use palisade_sbom::{Format, SbomOptions};

#[derive(clap::Args, Debug)]
pub struct SbomArgs {
    /// What to read: an image reference (`nginx:1.27`, `registry:host:5000/app@sha256:…`),
    /// `oci:DIR[:TAG]`, `docker-archive:FILE.tar`, `dir:ROOTFS`, or a project directory.
    pub source: String,

    /// Output format: cyclonedx-json, spdx-json, table or json.
    #[arg(long, short = 'f', default_value = "table", value_parser = parse_format)]
    pub format: Format,

    /// Write the SBOM to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    #[command(flatten)]
    pub image: ImageArgs,
}

/// How images are read: platform, registry credentials, cache. Shared by `sbom` and
/// `scan --images`.
#[derive(clap::Args, Debug, Clone)]
pub struct ImageArgs {
    /// The platform to read from a multi-platform image (`linux/arm64`); default linux/amd64.
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    pub platform: Option<String>,

    /// Registry user name; the password is read from standard input (`--password-stdin`).
    #[arg(long, requires = "password_stdin")]
    pub username: Option<String>,

    /// Read the registry password (or token) from standard input.
    #[arg(long, requires = "username")]
    pub password_stdin: bool,

    /// Trust the CA certificates in this PEM file for registries, besides the system's; repeatable.
    #[arg(long, value_name = "FILE")]
    pub registry_ca: Vec<PathBuf>,

    /// Talk plain HTTP to this registry host (`localhost:5000`); repeatable. For test registries only.
    #[arg(long, value_name = "HOST[:PORT]")]
    pub insecure_registry: Vec<String>,

    /// Neither read nor write the layer cache (`$XDG_CACHE_HOME/palisade/layers`).
    #[arg(long)]
    pub no_cache: bool,
}

fn parse_format(text: &str) -> Result<Format, String> {
    text.parse()
}

impl ImageArgs {
    /// The options images are read with; reads the password from standard input when asked.
    pub fn read_options(&self) -> anyhow::Result<palisade_catalog::source::ReadOptions> {
        let password = if self.password_stdin {
            let mut password = String::new();
            std::io::stdin().read_line(&mut password)?;
            Some(password.trim_end_matches(['\r', '\n']).to_owned())
        } else {
            None
        };
        let platform = self.platform.as_deref().map(palisade_image::Platform::parse).transpose()?;
        Ok(palisade_catalog::source::ReadOptions {
            platform,
            username: self.username.clone(),
            password,
            ca_certificates: self.registry_ca.clone(),
            insecure_hosts: self.insecure_registry.clone(),
            cache: !self.no_cache,
        })
    }
}

pub fn run(args: SbomArgs) -> anyhow::Result<ExitCode> {
    let options = args.image.read_options()?;
    let sbom_options = sbom_options()?;
    let bar = layer_bar();
    let inventory = palisade_catalog::source::read(&args.source, &options, &|progress| show(&bar, &progress))?;
    bar.finish_and_clear();
    for issue in &inventory.issues {
        // Layer problems already name their layer; a file's problem names the file.
        match issue.location.path.as_str() {
            "" => eprintln!("warning: {}", issue.message),
            path => eprintln!("warning: {path}: {}", issue.message),
        }
    }
    super::output::write_to(args.output.as_deref(), |out, color| {
        palisade_sbom::write(&inventory, args.format, &SbomOptions { color, ..sbom_options.clone() }, out)
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Palisade as the SBOMs' tool, dated `SOURCE_DATE_EPOCH` when it is set, else now.
pub fn sbom_options() -> anyhow::Result<SbomOptions> {
    let timestamp = palisade_sbom::timestamp_from_source_date_epoch(std::env::var("SOURCE_DATE_EPOCH").ok().as_deref())
        .map_err(|problem| anyhow::anyhow!("SOURCE_DATE_EPOCH: {problem}"))?;
    Ok(SbomOptions::new("palisade", env!("CARGO_PKG_VERSION"), timestamp))
}

/// A bar of layers read, on standard error when it is a terminal.
pub fn layer_bar() -> indicatif::ProgressBar {
    bar("layers")
}

/// A bar of images inventoried, on standard error when it is a terminal.
pub fn image_bar() -> indicatif::ProgressBar {
    bar("images")
}

/// A bar counting `unit`s, on standard error when it is a terminal (hidden otherwise, so logs
/// and CI output stay clean).
pub fn bar(unit: &str) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(0);
    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    if let Ok(style) = indicatif::ProgressStyle::with_template(&format!("{{bar:30}} {{pos}}/{{len}} {unit}  {{msg}}")) {
        bar.set_style(style);
    }
    bar
}

/// A bar of bytes read, on standard error when it is a terminal.
pub fn bytes_bar() -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(0);
    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    if let Ok(style) = indicatif::ProgressStyle::with_template("{bar:30} {bytes}/{total_bytes} {bytes_per_sec}") {
        bar.set_style(style);
    }
    bar
}

pub fn show(bar: &indicatif::ProgressBar, progress: &palisade_image::LayerProgress) {
    bar.set_length(progress.count as u64);
    match &progress.stage {
        palisade_image::LayerStage::Reading => bar.set_message(progress.digest.chars().take(19).collect::<String>()),
        _ => bar.inc(1),
    }
}
