//! Retention: a policy file (HCL) with one `bucket "NAME" { ... }` block per bucket:
//!
//! ```hcl
//! bucket "web" {
//!   keep_newest     = 5     # the 5 newest versions are never touched
//!   retain_at_least = 3     # never leave fewer than 3 versions that are not deleted
//!   deprecate_after = "30d" # deprecate active versions older than this
//!   delete_after    = "90d" # delete versions older than this
//! }
//! ```
//!
//! Protected versions, versions a channel points at, and images the cloud reports as launched
//! within the age limit are never touched. [`Catalog::prune_plan`] computes the exact plan;
//! [`Catalog::prune`] carries out a plan, step by step, and nothing else.

use crate::lifecycle::Op;
use crate::{BuildStatus, Catalog, CatalogError, State, Version};
use kiln_core::config::{Diagnostic, Diagnostics, Location};
use std::time::Duration;
use time::OffsetDateTime;

/// One bucket's rules.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rules {
    /// The bucket.
    pub bucket: String,
    /// The newest N versions are kept whatever their age.
    pub keep_newest: usize,
    /// Never fewer than M versions left that are not deleted.
    pub retain_at_least: usize,
    /// Deprecate active versions older than this.
    pub deprecate_after: Option<Duration>,
    /// Delete versions older than this.
    pub delete_after: Option<Duration>,
}

/// A parsed policy file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    /// Rules per bucket, in file order.
    pub buckets: Vec<Rules>,
}

/// One step of a plan.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Step {
    /// The bucket.
    pub bucket: String,
    /// The version's number.
    pub version: i64,
    /// `deprecate` or `delete`.
    pub action: String,
    /// Why.
    pub reason: String,
}

/// `30d`, `2w`, `12h`, or a Go duration (`720h`).
fn parse_age(s: &str) -> Result<Duration, String> {
    let (n, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let days = match unit {
        "d" => Some(1),
        "w" => Some(7),
        _ => None,
    };
    match (n.parse::<u64>(), days) {
        (Ok(n), Some(d)) => Ok(Duration::from_secs(n * d * 86_400)),
        _ => kiln_core::duration::parse(s)
            .map_err(|_| format!("{s:?} is not an age; write it like \"30d\", \"2w\" or \"36h\"")),
    }
}

fn days(d: Duration) -> String {
    let s = d.as_secs();
    if s.is_multiple_of(86_400) {
        format!("{}d", s / 86_400)
    } else {
        kiln_core::duration::human(d)
    }
}

impl Policy {
    /// Parses a policy file's text; errors are located in `name`.
    ///
    /// # Errors
    /// Syntax errors, unknown blocks or attributes, and values of the wrong kind.
    pub fn parse(name: &str, text: &str) -> Result<Policy, Diagnostics> {
        use hcl::edit::structure::Structure;
        use hcl::edit::Span;
        let mut diags = Diagnostics::default();
        let at =
            |span: Option<std::ops::Range<usize>>| span.map(|s| Location::from_span(name, text, s));
        let body = match hcl::edit::parser::parse_body(text) {
            Ok(b) => b,
            Err(e) => {
                let loc = e.location();
                return Err(
                    Diagnostic::error("Invalid policy file", e.message().to_string())
                        .at(Some(Location::from_span(
                            name,
                            text,
                            offset(text, loc.line(), loc.column())
                                ..offset(text, loc.line(), loc.column()) + 1,
                        )))
                        .into(),
                );
            }
        };
        let mut p = Policy::default();
        for s in body.iter() {
            let b = match s {
                Structure::Block(b) if b.ident.as_str() == "bucket" && b.labels.len() == 1 => b,
                Structure::Block(b) => {
                    diags.push(Diagnostic::error("Unsupported block", format!("A policy file has only bucket \"NAME\" {{ ... }} blocks, not {:?}.", b.ident.as_str())).at(at(b.ident.span())));
                    continue;
                }
                Structure::Attribute(a) => {
                    diags.push(
                        Diagnostic::error(
                            "Unsupported argument",
                            format!(
                                "{:?} must be inside a bucket \"NAME\" {{ ... }} block.",
                                a.key.as_str()
                            ),
                        )
                        .at(at(a.key.span())),
                    );
                    continue;
                }
            };
            let mut r = Rules {
                bucket: b.labels[0].as_str().to_string(),
                ..Rules::default()
            };
            for a in b.body.attributes() {
                let v = hcl::Expression::from(a.value.clone());
                let loc = at(a.value.span());
                let count = |diags: &mut Diagnostics| match &v {
                    hcl::Expression::Number(n) if n.as_u64().is_some() => {
                        n.as_u64().map(|n| n as usize)
                    }
                    _ => {
                        diags.push(
                            Diagnostic::error(
                                "Invalid value",
                                format!("{} must be a whole number such as 3.", a.key.as_str()),
                            )
                            .at(loc.clone()),
                        );
                        None
                    }
                };
                let age = |diags: &mut Diagnostics| match &v {
                    hcl::Expression::String(s) => match parse_age(s) {
                        Ok(d) => Some(d),
                        Err(e) => {
                            diags.push(
                                Diagnostic::error(
                                    "Invalid age",
                                    format!("{}: {e}.", a.key.as_str()),
                                )
                                .at(loc.clone()),
                            );
                            None
                        }
                    },
                    _ => {
                        diags.push(
                            Diagnostic::error(
                                "Invalid age",
                                format!("{} must be a string such as \"30d\".", a.key.as_str()),
                            )
                            .at(loc.clone()),
                        );
                        None
                    }
                };
                match a.key.as_str() {
                    "keep_newest" => r.keep_newest = count(&mut diags).unwrap_or_default(),
                    "retain_at_least" => r.retain_at_least = count(&mut diags).unwrap_or_default(),
                    "deprecate_after" => r.deprecate_after = age(&mut diags),
                    "delete_after" => r.delete_after = age(&mut diags),
                    other => {
                        let mut d = format!("An argument named {other:?} is not expected in a bucket block; the rules are keep_newest, retain_at_least, deprecate_after and delete_after.");
                        if let Some(s) = kiln_core::config::suggest(
                            other,
                            [
                                "keep_newest",
                                "retain_at_least",
                                "deprecate_after",
                                "delete_after",
                            ],
                        ) {
                            d.push_str(&format!(" Did you mean {s:?}?"));
                        }
                        diags.push(
                            Diagnostic::error("Unsupported argument", d).at(at(a.key.span())),
                        );
                    }
                }
            }
            p.buckets.push(r);
        }
        if diags.has_errors() {
            Err(diags)
        } else {
            Ok(p)
        }
    }
}

/// The byte offset of a 1-based line and column.
fn offset(text: &str, line: usize, column: usize) -> usize {
    let start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    (start + column.saturating_sub(1)).min(text.len())
}

impl Catalog {
    /// The plan `policy` makes at `now`, oldest version first.
    ///
    /// # Errors
    /// When a bucket of the policy does not exist, or on storage errors.
    pub async fn prune_plan(
        &self,
        policy: &Policy,
        now: OffsetDateTime,
    ) -> Result<Vec<Step>, CatalogError> {
        let mut plan = Vec::new();
        for r in &policy.buckets {
            let mut vs: Vec<Version> = self
                .versions(&r.bucket, false)
                .await?
                .into_iter()
                .filter(|v| v.status == BuildStatus::Succeeded && v.state != State::Deleted)
                .collect();
            vs.sort_by_key(|v| std::cmp::Reverse(v.number));
            let mut remaining = vs.len();
            for (i, v) in vs.iter().enumerate().rev() {
                let n = v.number.unwrap_or_default();
                if i < r.keep_newest || v.protected || !v.channels.is_empty() {
                    continue;
                }
                let age = now - v.finished_at;
                let older = |limit: Option<Duration>| {
                    limit.filter(|l| {
                        age >= time::Duration::try_from(*l).unwrap_or(time::Duration::MAX)
                    })
                };
                let launched = self.last_launched(v).await;
                let launched_within = |limit: Duration| {
                    launched.is_some_and(|t| {
                        now - t < time::Duration::try_from(limit).unwrap_or(time::Duration::MAX)
                    })
                };
                if let Some(limit) = older(r.delete_after) {
                    if remaining > r.retain_at_least && !launched_within(limit) {
                        remaining -= 1;
                        plan.push(Step {
                            bucket: r.bucket.clone(),
                            version: n,
                            action: "delete".into(),
                            reason: format!("older than delete_after = {}", days(limit)),
                        });
                        continue;
                    }
                }
                if let Some(limit) = older(r.deprecate_after) {
                    if v.state == State::Active && !launched_within(limit) {
                        plan.push(Step {
                            bucket: r.bucket.clone(),
                            version: n,
                            action: "deprecate".into(),
                            reason: format!("older than deprecate_after = {}", days(limit)),
                        });
                    }
                }
            }
        }
        Ok(plan)
    }

    /// When an instance was last launched from any artifact of `v`, where the cloud says.
    async fn last_launched(&self, v: &Version) -> Option<OffsetDateTime> {
        let mut newest = None;
        for a in &v.artifacts {
            if let Some(l) = self.lifecycle_of(&a.builder_id) {
                newest = newest.max(l.last_launched(&a.stored()).await.ok().flatten());
            }
        }
        newest
    }

    /// Carries out `plan`, in order; returns each step's resulting version. Stops at the first
    /// step that fails, with the steps done before it.
    ///
    /// # Errors
    /// The failing step's error, after the steps before it were done.
    pub async fn prune(
        &self,
        plan: &[Step],
        now: OffsetDateTime,
    ) -> Result<Vec<Version>, (Vec<Version>, CatalogError)> {
        let mut done = Vec::new();
        for s in plan {
            let op = if s.action == "delete" {
                Op::Delete
            } else {
                Op::Deprecate(None)
            };
            match self.apply(&s.bucket, &s.version.to_string(), op, now).await {
                Ok(v) => done.push(v),
                Err(e) => return Err((done, e)),
            }
        }
        Ok(done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_and_a_located_error() {
        assert_eq!(parse_age("30d"), Ok(Duration::from_secs(30 * 86_400)));
        assert_eq!(parse_age("2w"), Ok(Duration::from_secs(14 * 86_400)));
        assert_eq!(parse_age("36h"), Ok(Duration::from_secs(36 * 3600)));
        let e = Policy::parse(
            "p.hcl",
            "bucket \"web\" {\n  keep_newest = 2\n  delete_afterr = \"9d\"\n}\n",
        )
        .unwrap_err();
        let d = &e.0[0];
        assert_eq!(
            d.location.as_ref().map(ToString::to_string).as_deref(),
            Some("p.hcl:3:3")
        );
        assert!(
            d.detail.ends_with("Did you mean \"delete_after\"?"),
            "{}",
            d.detail
        );
        let e = Policy::parse(
            "p.hcl",
            "bucket \"web\" {\n  deprecate_after = \"soon\"\n}\n",
        )
        .unwrap_err();
        assert_eq!(
            e.0[0].location.as_ref().map(ToString::to_string).as_deref(),
            Some("p.hcl:2:21")
        );
        let e = Policy::parse("p.hcl", "bucket \"web\" {\n  keep_newest = \n}\n").unwrap_err();
        assert_eq!(
            e.0[0].location.as_ref().map(ToString::to_string).as_deref(),
            Some("p.hcl:2:17"),
            "{e:?}"
        );
    }
}
