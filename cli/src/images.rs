//! `kiln images`: the catalog from the command line. Tables by default, `--json` for scripts.

use clap::{Args, Subcommand};
use kiln_catalog::lifecycle::Op;
use kiln_catalog::{Catalog, CatalogError, Version, VersionSummary};
use time::OffsetDateTime;

#[derive(Args, Debug)]
pub struct ImagesArgs {
    /// The catalog: an SQLite file or a postgres:// URL (default: KILN_CATALOG, else
    /// $XDG_DATA_HOME/kiln/catalog.db).
    #[arg(long, global = true)]
    catalog: Option<String>,
    /// Print JSON instead of a table.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: ImagesCommand,
}

// Parsed once per run: the size of the `test` variant's options does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
enum ImagesCommand {
    /// List buckets, or the versions of one bucket.
    List { bucket: Option<String> },
    /// Show one version (a number, vN, latest, or a fingerprint).
    Show { bucket: String, version: String },
    /// Every build of a bucket, failed ones too, and its channel moves.
    History { bucket: String },
    /// Point a channel at a version.
    Promote {
        bucket: String,
        version: String,
        #[arg(long)]
        channel: String,
        /// Refuse unless the version's build ran goss tests and all passed.
        #[arg(long = "require-tests")]
        require_tests: bool,
    },
    /// Move a channel back to its previous assignment.
    Rollback {
        bucket: String,
        #[arg(long)]
        channel: String,
    },
    /// Channels: `channel get BUCKET CHANNEL` prints the image id a channel points at.
    Channel {
        #[command(subcommand)]
        command: ChannelCommand,
    },
    /// Deprecate a version now or at a time (RFC 3339).
    Deprecate {
        bucket: String,
        version: String,
        #[arg(long)]
        at: Option<String>,
    },
    /// Disable a version (AMIs: DisableImage; local files: moved to the archive directory).
    Disable { bucket: String, version: String },
    /// Revoke a version now or from a time: promotion and builds from it are refused.
    Revoke {
        bucket: String,
        version: String,
        #[arg(long)]
        reason: String,
        #[arg(long)]
        at: Option<String>,
    },
    /// Bring a deprecated, disabled or revoked version back to active.
    Restore { bucket: String, version: String },
    /// Delete a version's artifacts (AMIs and their snapshots in every region; local files).
    Delete { bucket: String, version: String },
    /// Protect a version from disabling and deletion (--off to lift it).
    Protect {
        bucket: String,
        version: String,
        #[arg(long)]
        off: bool,
    },
    /// Apply a retention policy file (HCL): print the plan, then carry it out.
    Prune {
        /// The policy file: bucket "NAME" { keep_newest, retain_at_least, deprecate_after,
        /// delete_after }.
        #[arg(long)]
        policy: std::path::PathBuf,
        /// Print the plan and change nothing.
        #[arg(long = "dry-run")]
        dry_run: bool,
    },
    /// The versions built from a version, recursively.
    Children { bucket: String, version: String },
    /// Images whose parent channel has moved on since they were built, and images whose latest
    /// scan found vulnerabilities at or above --vulnerable-at.
    Outdated {
        /// critical, high, medium or low.
        #[arg(long = "vulnerable-at", default_value = "high")]
        vulnerable_at: String,
    },
    /// Boot a version's qemu image in a throwaway VM, run a goss spec against it, and keep the
    /// results with the version (what --require-tests looks at).
    Test {
        bucket: String,
        version: String,
        #[command(flatten)]
        opts: crate::test::TestOptions,
    },
    /// Rescan the SBOMs kept with versions (of a bucket, or one version) against an OSV
    /// database, and record the findings; exit status 1 when one is at or above --fail-on.
    Scan {
        bucket: Option<String>,
        version: Option<String>,
        /// A directory of OSV JSON files, or osv.dev's zip (default: KILN_VULN_DB).
        #[arg(long = "vuln-db")]
        vuln_db: Option<std::path::PathBuf>,
        /// critical, high, medium or low.
        #[arg(long = "fail-on", default_value = "high")]
        fail_on: String,
        /// An allow list (YAML: a list of {id, reason, expires}).
        #[arg(long = "allow-list")]
        allow_list: Option<std::path::PathBuf>,
    },
    /// The audit log (`audit verify` checks its hash chain).
    Audit {
        /// `verify`.
        action: Option<String>,
        /// Only this bucket's entries.
        #[arg(long)]
        bucket: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
enum ChannelCommand {
    /// Print the image id the channel points at.
    Get {
        bucket: String,
        channel: String,
        /// The region of a multi-region image.
        #[arg(long)]
        region: Option<String>,
    },
    /// The channel's assignment history.
    History { bucket: String, channel: String },
    /// Write the channel's AMI ids to an SSM parameter (type aws:ec2:image, one per region)
    /// now and after every promote and rollback; --off stops that. Without --ssm, list the
    /// channel's publications.
    Publish {
        bucket: String,
        channel: String,
        /// The SSM parameter, e.g. /images/web/production.
        #[arg(long)]
        ssm: Option<String>,
        /// Only these regions (repeatable; default: every region of the image).
        #[arg(long)]
        region: Vec<String>,
        /// Stop publishing to the parameter (it is left as it is).
        #[arg(long)]
        off: bool,
    },
}

/// Versions whose latest scan is over a threshold.
fn vulnerable_table(scans: &[kiln_catalog::documents::Scan]) -> String {
    let mut rows = vec![["BUCKET", "VERSION", "VULNERABLE", "SCANNED"]
        .map(String::from)
        .to_vec()];
    for s in scans {
        rows.push(vec![
            s.bucket.clone(),
            s.version.map(|n| format!("v{n}")).unwrap_or_default(),
            format!(
                "{} ({} critical, {} high)",
                s.worst, s.counts["critical"], s.counts["high"]
            ),
            when(s.at),
        ]);
    }
    table(&rows)
}

/// The calls a command made, one per line, indented under its result.
fn calls(c: &[String]) -> String {
    c.iter().map(|c| format!("  {c}\n")).collect()
}

/// Rows as columns padded to their widest cell, two spaces apart (the last one unpadded).
pub(crate) fn table(rows: &[Vec<String>]) -> String {
    let mut widths = Vec::new();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            if widths.len() <= i {
                widths.push(0);
            }
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let mut out = String::new();
    for r in rows {
        let mut line = String::new();
        for (i, c) in r.iter().enumerate() {
            if i + 1 == r.len() {
                line.push_str(c);
            } else {
                line.push_str(&format!("{c:<w$}  ", w = widths[i]));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn when(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn state_of(v: &VersionSummary, now: OffsetDateTime) -> String {
    let mut s = match (v.state, v.deprecate_at) {
        (kiln_catalog::State::Deprecated, Some(t)) if t > now => format!("deprecates {}", when(t)),
        (st, _) => st.as_str().to_string(),
    };
    if let Some(r) = &v.revoked {
        s.push_str(if r.at <= now {
            ", revoked"
        } else {
            ", revocation scheduled"
        });
    }
    if v.protected {
        s.push_str(", protected");
    }
    s
}

fn artifact_ids(v: &Version) -> String {
    v.artifacts
        .iter()
        .map(|a| a.id.clone())
        .collect::<Vec<_>>()
        .join(" ")
}

fn json_out(v: &impl serde::Serialize) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default() + "\n"
}

fn show(v: &Version, now: OffsetDateTime, extra: &[Vec<String>]) -> String {
    let mut rows = vec![
        vec!["bucket".into(), v.bucket.clone()],
        vec!["version".into(), v.label()],
        vec!["fingerprint".into(), v.fingerprint.clone()],
        vec!["build".into(), v.status.as_str().into()],
        vec!["state".into(), state_of(&v.summary(), now)],
        vec!["channels".into(), v.channels.join(", ")],
        vec!["builds".into(), v.build_names.join(", ")],
        vec!["started".into(), when(v.started_at)],
        vec!["finished".into(), when(v.finished_at)],
    ];
    if let Some(r) = &v.revoked {
        rows.push(vec![
            "revoked".into(),
            format!("{} from {}", r.reason, when(r.at)),
        ]);
    }
    if let Some(e) = &v.error {
        rows.push(vec!["error".into(), e.replace('\n', "; ")]);
    }
    if let Some(p) = &v.parent {
        rows.push(vec![
            "parent".into(),
            format!(
                "{} {}{}",
                p.bucket,
                p.fingerprint,
                p.channel
                    .as_ref()
                    .map(|c| format!(" (channel {c})"))
                    .unwrap_or_default()
            ),
        ]);
    }
    for key in [
        "template",
        "template_sha256",
        "git_commit",
        "kiln_version",
        "user",
        "host",
    ] {
        if let Some(x) = v.metadata.get(key).filter(|x| !x.is_null()) {
            let text = match x {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Array(a) => a
                    .iter()
                    .filter_map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                other => other.to_string(),
            };
            rows.push(vec![key.replace('_', " "), text]);
        }
    }
    if let Some(l) = v.labels.as_object() {
        for (k, x) in l {
            rows.push(vec![
                format!("label {k}"),
                x.as_str().unwrap_or_default().to_string(),
            ]);
        }
    }
    for a in &v.artifacts {
        let mut d = format!("{} {} ({})", a.build_name, a.id, a.builder_type);
        if let Some(s) = a.size {
            d.push_str(&format!(", {s} bytes"));
        }
        if let Some(c) = &a.checksum {
            d.push_str(&format!(", {c}"));
        }
        rows.push(vec!["artifact".into(), d]);
    }
    rows.extend(extra.iter().cloned());
    table(&rows)
}

/// Runs `kiln images ...`; returns the exit code.
pub async fn run(a: ImagesArgs) -> i32 {
    let Some(loc) = crate::catalog::location(a.catalog.as_deref()) else {
        eprintln!("Error: the catalog is off (KILN_CATALOG=off); point --catalog or KILN_CATALOG at a catalog");
        return 1;
    };
    let cat = match crate::catalog::open(loc).await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("Error: {e}");
            return 1;
        }
    };
    match exec(&cat, a.command, a.json).await {
        Ok((out, code)) => {
            print!("{out}");
            code
        }
        Err(e) => {
            eprintln!("Error: {e}");
            match e {
                CatalogError::NotFound(_) | CatalogError::Refused(_) | CatalogError::Invalid(_) => {
                    1
                }
                _ => 2,
            }
        }
    }
}

async fn exec(cat: &Catalog, c: ImagesCommand, json: bool) -> Result<(String, i32), CatalogError> {
    let now = OffsetDateTime::now_utc();
    let at = |s: Option<String>| s.map(|s| kiln_catalog::parse_rfc3339(&s)).transpose();
    let lifecycle = |v: Version| {
        if json {
            json_out(&v)
        } else {
            format!(
                "{} {}: {}\n",
                v.bucket,
                v.label(),
                state_of(&v.summary(), now)
            )
        }
    };
    Ok((
        match c {
            ImagesCommand::List { bucket: None } => {
                let b = cat.buckets().await?;
                if json {
                    json_out(&b)
                } else {
                    let mut rows = vec![vec![
                        "BUCKET".into(),
                        "VERSIONS".into(),
                        "LATEST".into(),
                        "CHANNELS".into(),
                    ]];
                    for x in &b {
                        rows.push(vec![
                            x.name.clone(),
                            x.versions.to_string(),
                            x.latest.map(|n| format!("v{n}")).unwrap_or_default(),
                            x.channels
                                .iter()
                                .map(|(c, n)| format!("{c}=v{n}"))
                                .collect::<Vec<_>>()
                                .join(" "),
                        ]);
                    }
                    table(&rows)
                }
            }
            ImagesCommand::List { bucket: Some(b) } => {
                let vs = cat.list(&b, false).await?;
                if json {
                    json_out(&vs)
                } else {
                    let mut rows = vec![vec![
                        "VERSION".into(),
                        "STATE".into(),
                        "CHANNELS".into(),
                        "FINISHED".into(),
                        "ARTIFACTS".into(),
                    ]];
                    for v in &vs {
                        rows.push(vec![
                            v.label(),
                            state_of(v, now),
                            v.channels.join(","),
                            when(v.finished_at),
                            v.artifact_ids.join(" "),
                        ]);
                    }
                    table(&rows)
                }
            }
            ImagesCommand::Show { bucket, version } => {
                let v = cat.version(&bucket, &version).await?;
                if json {
                    json_out(&v)
                } else {
                    let mut extra = Vec::new();
                    for d in cat.documents(&bucket, &v.fingerprint).await? {
                        extra.push(vec![d.kind.clone(), format!("{} ({})", d.name, d.sha256)]);
                    }
                    if let Some(t) = cat.test_results(&bucket, &v.fingerprint).await? {
                        extra.push(vec![
                            "tests".into(),
                            format!(
                                "{} passed, {} failed, {} skipped",
                                t.tests - t.failed - t.skipped,
                                t.failed,
                                t.skipped
                            ),
                        ]);
                    }
                    show(&v, now, &extra)
                }
            }
            ImagesCommand::History { bucket } => {
                let vs = cat.versions(&bucket, true).await?;
                let moves = cat.channel_history(&bucket, None).await?;
                if json {
                    json_out(&serde_json::json!({"builds": vs, "channels": moves}))
                } else {
                    let mut rows = vec![vec![
                        "FINISHED".into(),
                        "VERSION".into(),
                        "BUILD".into(),
                        "STATE".into(),
                        "DETAIL".into(),
                    ]];
                    for v in vs.iter().rev() {
                        rows.push(vec![
                            when(v.finished_at),
                            v.label(),
                            v.status.as_str().into(),
                            state_of(&v.summary(), now),
                            v.error
                                .clone()
                                .unwrap_or_else(|| artifact_ids(v))
                                .replace('\n', "; "),
                        ]);
                    }
                    let mut out = table(&rows);
                    if !moves.is_empty() {
                        let mut rows = vec![vec![
                            "AT".into(),
                            "CHANNEL".into(),
                            "VERSION".into(),
                            "ACTION".into(),
                            "BY".into(),
                        ]];
                        for m in &moves {
                            rows.push(vec![
                                when(m.at),
                                m.channel.clone(),
                                format!("v{}", m.version),
                                m.action.clone(),
                                m.actor.clone(),
                            ]);
                        }
                        out.push('\n');
                        out.push_str(&table(&rows));
                    }
                    out
                }
            }
            ImagesCommand::Promote {
                bucket,
                version,
                channel,
                require_tests,
            } => {
                if require_tests {
                    let v = cat.version(&bucket, &version).await?;
                    match cat.test_results(&bucket, &v.fingerprint).await? {
                        None => return Err(CatalogError::Refused(format!(
                            "cannot promote to {channel}: {bucket} {} has no test results (its build ran no goss provisioner), and --require-tests asks for passing ones",
                            v.label()
                        ))),
                        Some(t) if t.failed > 0 => return Err(CatalogError::Refused(format!(
                            "cannot promote to {channel}: {bucket} {} failed {} of its {} tests",
                            v.label(),
                            t.failed,
                            t.tests
                        ))),
                        Some(_) => {}
                    }
                }
                let a = cat.promote(&bucket, &version, &channel, now).await?;
                if json {
                    json_out(&a)
                } else {
                    format!(
                        "{bucket}: {channel} -> v{}\n{}",
                        a.version,
                        calls(&a.published)
                    )
                }
            }
            ImagesCommand::Rollback { bucket, channel } => {
                let a = cat.rollback(&bucket, &channel, now).await?;
                if json {
                    json_out(&a)
                } else {
                    format!(
                        "{bucket}: {channel} -> v{} (rolled back)\n{}",
                        a.version,
                        calls(&a.published)
                    )
                }
            }
            ImagesCommand::Channel {
                command:
                    ChannelCommand::Get {
                        bucket,
                        channel,
                        region,
                    },
            } => {
                let v = cat.channel(&bucket, &channel).await?;
                let a = v.artifacts.first().ok_or_else(|| {
                    CatalogError::NotFound(format!("{bucket} {} has no artifact", v.label()))
                })?;
                let id = crate::catalog::image_id(a, region.as_deref())
                    .map_err(CatalogError::Invalid)?;
                if json {
                    json_out(
                        &serde_json::json!({"bucket": bucket, "channel": channel, "version": v.number, "fingerprint": v.fingerprint, "id": id, "artifact_id": a.id}),
                    )
                } else {
                    format!("{id}\n")
                }
            }
            ImagesCommand::Channel {
                command:
                    ChannelCommand::Publish {
                        bucket,
                        channel,
                        ssm,
                        region,
                        off,
                    },
            } => match (ssm, off) {
                (None, true) => {
                    return Err(CatalogError::Invalid(
                        "--off needs the parameter to stop publishing to: --ssm NAME".into(),
                    ))
                }
                (None, false) => {
                    let pubs = cat.publications(&bucket, Some(&channel)).await?;
                    if json {
                        json_out(&pubs)
                    } else {
                        let mut rows =
                            vec![vec!["PARAMETER".into(), "REGIONS".into(), "BY".into()]];
                        for p in &pubs {
                            rows.push(vec![
                                p.parameter.clone(),
                                if p.regions.is_empty() {
                                    "all".into()
                                } else {
                                    p.regions.join(",")
                                },
                                p.actor.clone(),
                            ]);
                        }
                        table(&rows)
                    }
                }
                (Some(parameter), true) => {
                    cat.unpublish(&bucket, &channel, &parameter, now).await?;
                    if json {
                        json_out(
                            &serde_json::json!({"bucket": bucket, "channel": channel, "parameter": parameter, "published": false}),
                        )
                    } else {
                        format!("{bucket}: {channel} is no longer published to {parameter}\n")
                    }
                }
                (Some(parameter), false) => {
                    let p = kiln_catalog::Publication {
                        parameter,
                        regions: region,
                    };
                    let done = cat.publish(&bucket, &channel, &p, now).await?;
                    if json {
                        json_out(
                            &serde_json::json!({"bucket": bucket, "channel": channel, "parameter": p.parameter, "calls": done}),
                        )
                    } else {
                        format!(
                            "{bucket}: {channel} is published to {} (again after every promote and rollback)\n{}",
                            p.parameter,
                            calls(&done)
                        )
                    }
                }
            },
            ImagesCommand::Channel {
                command: ChannelCommand::History { bucket, channel },
            } => {
                let h = cat.channel_history(&bucket, Some(&channel)).await?;
                if json {
                    json_out(&h)
                } else {
                    let mut rows = vec![vec![
                        "#".into(),
                        "AT".into(),
                        "VERSION".into(),
                        "ACTION".into(),
                        "BY".into(),
                    ]];
                    for m in &h {
                        rows.push(vec![
                            m.seq.to_string(),
                            when(m.at),
                            format!("v{}", m.version),
                            m.action.clone(),
                            m.actor.clone(),
                        ]);
                    }
                    table(&rows)
                }
            }
            ImagesCommand::Deprecate {
                bucket,
                version,
                at: t,
            } => lifecycle(
                cat.apply(&bucket, &version, Op::Deprecate(at(t)?), now)
                    .await?,
            ),
            ImagesCommand::Disable { bucket, version } => {
                lifecycle(cat.apply(&bucket, &version, Op::Disable, now).await?)
            }
            ImagesCommand::Revoke {
                bucket,
                version,
                reason,
                at: t,
            } => lifecycle(
                cat.apply(&bucket, &version, Op::Revoke(at(t)?, reason), now)
                    .await?,
            ),
            ImagesCommand::Restore { bucket, version } => {
                lifecycle(cat.apply(&bucket, &version, Op::Restore, now).await?)
            }
            ImagesCommand::Delete { bucket, version } => {
                lifecycle(cat.apply(&bucket, &version, Op::Delete, now).await?)
            }
            ImagesCommand::Protect {
                bucket,
                version,
                off,
            } => lifecycle(cat.apply(&bucket, &version, Op::Protect(!off), now).await?),
            ImagesCommand::Children { bucket, version } => {
                let v = cat.version(&bucket, &version).await?;
                let kids = cat.children(&v).await?;
                if json {
                    json_out(&kids)
                } else {
                    let mut rows = vec![vec![
                        "BUCKET".into(),
                        "VERSION".into(),
                        "STATE".into(),
                        "ARTIFACTS".into(),
                    ]];
                    for k in &kids {
                        rows.push(vec![
                            k.bucket.clone(),
                            k.label(),
                            state_of(&k.summary(), now),
                            artifact_ids(k),
                        ]);
                    }
                    table(&rows)
                }
            }
            ImagesCommand::Prune { policy, dry_run } => {
                let text = std::fs::read_to_string(&policy).map_err(|e| {
                    CatalogError::Invalid(format!(
                        "cannot read the policy file {}: {e}",
                        policy.display()
                    ))
                })?;
                let p =
                    kiln_catalog::retention::Policy::parse(&policy.display().to_string(), &text)
                        .map_err(|d| {
                            CatalogError::Invalid(format!("the policy file is not valid:\n\n{d}"))
                        })?;
                let plan = cat.prune_plan(&p, now).await?;
                if json && dry_run {
                    return Ok((json_out(&plan), 0));
                }
                let mut out: String = plan
                    .iter()
                    .map(|s| format!("{} v{}: {} ({})\n", s.bucket, s.version, s.action, s.reason))
                    .collect();
                if plan.is_empty() {
                    out.push_str("Nothing to prune.\n");
                } else if dry_run {
                    out.push_str("Dry run: nothing was changed.\n");
                } else {
                    match cat.prune(&plan, now).await {
                        Ok(done) => {
                            out.push_str(&format!("Done: {} versions changed.\n", done.len()))
                        }
                        Err((done, e)) => {
                            print!("{out}");
                            return Err(CatalogError::Effect(format!(
                                "pruning stopped after {} of {} steps: {e}",
                                done.len(),
                                plan.len()
                            )));
                        }
                    }
                }
                out
            }
            ImagesCommand::Outdated { vulnerable_at } => {
                let at = crate::scan::threshold(&vulnerable_at, "--vulnerable-at")
                    .map_err(CatalogError::Invalid)?;
                let o = cat.outdated().await?;
                let vulnerable: Vec<kiln_catalog::documents::Scan> = cat
                    .latest_scans(None)
                    .await?
                    .into_iter()
                    .filter(|s| {
                        kiln_sbom::osv::Severity::parse(&s.worst)
                            .is_some_and(|w| w >= at && w != kiln_sbom::osv::Severity::Unknown)
                    })
                    .collect();
                if json {
                    let mut out: Vec<serde_json::Value> = o.iter().map(|(v, p)| serde_json::json!({"bucket": v.bucket, "version": v.number, "parent_bucket": p.bucket, "parent_channel": v.parent.as_ref().and_then(|x| x.channel.clone()), "parent_now": p.number})).collect();
                    out.extend(vulnerable.iter().map(|s| serde_json::json!({"bucket": s.bucket, "version": s.version, "vulnerable": s.worst, "counts": s.counts, "scanned_at": when(s.at)})));
                    json_out(&out)
                } else if o.is_empty() && !vulnerable.is_empty() {
                    vulnerable_table(&vulnerable)
                } else {
                    let mut rows = vec![vec![
                        "BUCKET".into(),
                        "VERSION".into(),
                        "BUILT FROM".into(),
                        "CHANNEL NOW".into(),
                    ]];
                    for (v, p) in &o {
                        let par = v.parent.as_ref().expect("outdated versions have parents");
                        let old = cat
                            .version(&par.bucket, &par.fingerprint)
                            .await
                            .map(|x| x.label())
                            .unwrap_or_else(|_| par.fingerprint.clone());
                        rows.push(vec![
                            v.bucket.clone(),
                            v.label(),
                            format!(
                                "{} {old} ({})",
                                par.bucket,
                                par.channel.clone().unwrap_or_default()
                            ),
                            p.label(),
                        ]);
                    }
                    let mut out = table(&rows);
                    if !vulnerable.is_empty() {
                        out.push('\n');
                        out.push_str(&vulnerable_table(&vulnerable));
                    }
                    out
                }
            }
            ImagesCommand::Test {
                bucket,
                version,
                opts,
            } => {
                let v = cat.version(&bucket, &version).await?;
                let target = crate::test::Target::of_version(&v).map_err(CatalogError::Refused)?;
                match crate::test::test(&target, &opts).await {
                    Ok(t) => {
                        cat.add_document(
                            &bucket,
                            &v.fingerprint,
                            kiln_catalog::documents::NewDocument {
                                kind: "test-results".into(),
                                name: opts.spec.display().to_string(),
                                content: t.json,
                            },
                            "test",
                            now,
                        )
                        .await?;
                        eprintln!(
                            "Recorded the results with {bucket} {} in the catalog",
                            v.label()
                        );
                        return Ok((t.shown, i32::from(t.failed)));
                    }
                    Err(code) => return Ok((String::new(), code)),
                }
            }
            ImagesCommand::Scan {
                bucket,
                version,
                vuln_db,
                fail_on,
                allow_list,
            } => {
                let at =
                    crate::scan::threshold(&fail_on, "--fail-on").map_err(CatalogError::Invalid)?;
                let (db, db_path) =
                    crate::scan::load_db(vuln_db.as_ref()).map_err(CatalogError::Invalid)?;
                let allow =
                    crate::scan::allow_list(allow_list.as_ref()).map_err(CatalogError::Invalid)?;
                let mut targets: Vec<(String, String, String)> = Vec::new();
                match (&bucket, &version) {
                    (Some(b), Some(v)) => {
                        let v = cat.version(b, v).await?;
                        targets.push((v.bucket.clone(), v.fingerprint.clone(), v.label()));
                    }
                    _ => {
                        let buckets = match &bucket {
                            Some(b) => vec![b.clone()],
                            None => cat.buckets().await?.into_iter().map(|b| b.name).collect(),
                        };
                        for b in buckets {
                            for v in cat.list(&b, false).await? {
                                if v.state != kiln_catalog::State::Deleted {
                                    targets.push((b.clone(), v.fingerprint.clone(), v.label()));
                                }
                            }
                        }
                    }
                }
                let mut rows = vec![[
                    "BUCKET",
                    "VERSION",
                    "WORST",
                    "CRITICAL",
                    "HIGH",
                    "MEDIUM",
                    "LOW",
                    "OVER THE GATE",
                ]
                .map(String::from)
                .to_vec()];
                let mut scans = Vec::new();
                let mut gated = false;
                for (b, fp, label) in targets {
                    let docs = cat.documents(&b, &fp).await?;
                    let Some(doc) = docs
                        .iter()
                        .find(|d| d.kind == "sbom-cyclonedx")
                        .or_else(|| docs.iter().find(|d| d.kind == "sbom-spdx"))
                    else {
                        rows.push(vec![b.clone(), label, "no SBOM".into()]);
                        continue;
                    };
                    let (_, findings) = crate::scan::findings_of(
                        &format!("{b} {label} {}", doc.name),
                        &doc.content,
                        &db,
                        &allow,
                    )
                    .map_err(CatalogError::Invalid)?;
                    let count = |s: kiln_sbom::osv::Severity| {
                        findings
                            .iter()
                            .filter(|f| f.allowed.is_none() && f.severity == s)
                            .count()
                    };
                    use kiln_sbom::osv::Severity as S;
                    let counts = serde_json::json!({"critical": count(S::Critical), "high": count(S::High), "medium": count(S::Medium), "low": count(S::Low), "unknown": count(S::Unknown), "allowed": findings.iter().filter(|f| f.allowed.is_some()).count()});
                    let worst = findings
                        .iter()
                        .filter(|f| f.allowed.is_none())
                        .map(|f| f.severity)
                        .max()
                        .map_or("none", S::as_str);
                    let over: Vec<String> = kiln_sbom::osv::gate(&findings, at)
                        .iter()
                        .map(|f| format!("{} ({})", f.id, f.package))
                        .collect();
                    gated |= !over.is_empty();
                    let s = cat
                        .record_scan(
                            &b,
                            &fp,
                            &db_path.display().to_string(),
                            worst,
                            counts.clone(),
                            serde_json::json!(findings),
                            now,
                        )
                        .await?;
                    rows.push(vec![
                        b.clone(),
                        label,
                        worst.into(),
                        counts["critical"].to_string(),
                        counts["high"].to_string(),
                        counts["medium"].to_string(),
                        counts["low"].to_string(),
                        over.join(" "),
                    ]);
                    scans.push(s);
                }
                let out = if json { json_out(&scans) } else { table(&rows) };
                return Ok((out, i32::from(gated)));
            }
            ImagesCommand::Audit {
                action: Some(a), ..
            } if a == "verify" => {
                return Ok(match cat.verify_audit().await? {
                    Ok(n) => (
                        if json {
                            json_out(&serde_json::json!({"ok": true, "entries": n}))
                        } else {
                            format!("The audit log is intact: {n} entries.\n")
                        },
                        0,
                    ),
                    Err(b) => {
                        if json {
                            (
                                json_out(
                                    &serde_json::json!({"ok": false, "position": b.position, "problem": b.problem}),
                                ),
                                1,
                            )
                        } else {
                            eprintln!(
                                "Error: the audit log was tampered with at entry {}: {}",
                                b.position, b.problem
                            );
                            (String::new(), 1)
                        }
                    }
                });
            }
            ImagesCommand::Audit {
                action: Some(a), ..
            } => {
                return Err(CatalogError::Invalid(format!(
                    "unknown audit action {a:?}; the only one is verify"
                )));
            }
            ImagesCommand::Audit {
                action: None,
                bucket,
            } => {
                let log = cat.audit(bucket.as_deref()).await?;
                if json {
                    json_out(&log)
                } else {
                    let mut rows = vec![vec![
                        "#".into(),
                        "AT".into(),
                        "WHO".into(),
                        "FROM".into(),
                        "ACTION".into(),
                        "BUCKET".into(),
                        "VERSION".into(),
                        "DETAIL".into(),
                    ]];
                    for e in &log {
                        rows.push(vec![
                            e.seq.to_string(),
                            e.at.clone(),
                            e.actor.clone(),
                            e.host.clone(),
                            e.action.clone(),
                            e.bucket.clone(),
                            e.version.clone(),
                            e.detail.clone(),
                        ]);
                    }
                    table(&rows)
                }
            }
        },
        0,
    ))
}
