//! `roster replay FILE... --against URL --token T`: runs corpus or exported sequences against a
//! server and fails on any difference.

use std::path::PathBuf;

use serde_json::json;

use super::Cmd;
use crate::replay::{Runner, Sequence, SequenceReport};

#[derive(Debug, clap::Args)]
pub(super) struct ReplayArgs {
    /// Sequence files in the corpus format (scim-conformance/replay/README.md).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// The SCIM base URL to send to, e.g. http://127.0.0.1:8080/scim/v2.
    #[arg(long)]
    against: String,
    /// Bearer token of the directory to replay into.
    #[arg(long, env = "ROSTER_REPLAY_TOKEN", hide_env_values = true)]
    token: String,
}

pub(super) fn replay(ctx: &Cmd, args: ReplayArgs) -> anyhow::Result<()> {
    // Every file is read before the first request, so a typo never leaves a half-run behind.
    let sequences = args
        .files
        .iter()
        .map(|f| Sequence::load(f))
        .collect::<Result<Vec<_>, _>>()?;
    let runner = Runner::new(&args.against, &args.token)?;
    let reports: Vec<SequenceReport> = sequences.iter().map(|s| runner.run(s)).collect();
    let steps: usize = reports.iter().map(|r| r.steps.len()).sum();
    let failed: usize = reports.iter().map(|r| r.failed_steps().count()).sum();
    let differences: usize = reports.iter().map(SequenceReport::differences).sum();
    ctx.print(
        json!({
            "sequences": reports,
            "steps": steps,
            "failed_steps": failed,
            "differences": differences,
        }),
        || {
            let mut out = String::new();
            for (file, report) in args.files.iter().zip(&reports) {
                out.push_str(&format!(
                    "{} ({}, {})\n",
                    report.name,
                    report.kind,
                    file.display()
                ));
                for s in &report.steps {
                    let verdict = if s.differences.is_empty() {
                        "OK  "
                    } else {
                        "DIFF"
                    };
                    let status = s.status.map_or("---".to_string(), |c| c.to_string());
                    out.push_str(&format!(
                        "  {:>3} {verdict} {status} {} {}  ({})\n",
                        s.step, s.method, s.path, s.name
                    ));
                    for d in &s.differences {
                        out.push_str(&format!("          {d}\n"));
                    }
                }
            }
            out.push_str(&format!(
                "{} sequence(s), {steps} step(s), {failed} with differences, {differences} difference(s)",
                reports.len()
            ));
            out
        },
    );
    if differences > 0 {
        anyhow::bail!("{differences} difference(s) in {failed} step(s)");
    }
    Ok(())
}
