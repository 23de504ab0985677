//! `llmscope ca`: where llmscope's CA certificate is (made now if there was none) and how to
//! trust it in each runtime agents use, as shell lines to `eval`.

use std::fmt::Write as _;

use anyhow::{Context, Result};

use super::DataDirArg;
use crate::ca::{trust_vars, CaOrigin, CertAuthority};

pub fn run(args: &DataDirArg) -> Result<()> {
    let data_dir = args.resolve()?;
    let (ca, origin) = CertAuthority::load_or_create(&data_dir)
        .with_context(|| format!("loading llmscope's CA in {}", data_dir.display()))?;
    let (vars, roots) = trust_vars(&ca).context("writing the CA bundle")?;
    let mut out = String::new();
    let made = match origin {
        CaOrigin::Created => "made now",
        CaOrigin::Loaded => "made before",
    };
    let _ = writeln!(
        out,
        "# llmscope's CA certificate ({made}; its key beside it, owner-only):\n#   {}",
        ca.cert_path().display()
    );
    let _ = writeln!(
        out,
        "# Forward mode (`llmscope record --mode forward`) shows it to agents as the issuer of\n\
         # the LLM hosts' certificates. Trust it in the agent's runtime:"
    );
    for var in &vars {
        let _ = writeln!(out, "# {}", var.readers);
        let _ = writeln!(
            out,
            "export {}={}",
            var.name,
            shell_quote(&var.path.display().to_string())
        );
    }
    match roots {
        Some(path) => {
            let _ = writeln!(
                out,
                "# (SSL_CERT_FILE and REQUESTS_CA_BUNDLE replace the trust store: their bundle is\n\
                 #  {} plus llmscope's CA)",
                path.display()
            );
        }
        None => {
            let _ = writeln!(
                out,
                "# (no system CA bundle found: the bundle holds only llmscope's CA, so Python \
                 programs will trust no other host while these are set)"
            );
        }
    }
    let _ = writeln!(
        out,
        "# Then send the agent through llmscope: export HTTPS_PROXY=http://127.0.0.1:8787\n\
         # (curl: --proxy http://127.0.0.1:8787 --cacert {})",
        ca.cert_path().display()
    );
    print!("{out}");
    Ok(())
}

/// Single quotes unless the path needs none.
fn shell_quote(text: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "/._-+:@".contains(c);
    if !text.is_empty() && text.chars().all(plain) {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}
