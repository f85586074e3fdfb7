//! `data "amazon-ami"`: looks up one AMI by `filters`, `owners` and `most_recent`, as Packer's
//! data source does; outputs `id`, `name`, `creation_date`, `owner`, `owner_name` and `tags`.

use crate::client::Access;
use crate::config::{AmazonConfig, AmiFilter};
use kiln_core::Registry;

/// The arguments of the lookup itself; the access options are `config::ACCESS`.
const FILTER_ARGS: &[&str] = &["filters", "owners", "most_recent", "include_deprecated"];

/// Registers `amazon-ami`.
pub fn register(r: &mut Registry) {
    r.data_source("amazon-ami", execute);
}

/// Runs the lookup (on a runtime of its own: data sources run while the template loads).
///
/// # Errors
/// Bad arguments, no match, several without `most_recent`, or the API's error.
pub fn execute(args: &serde_json::Value) -> Result<serde_json::Value, String> {
    let obj = args.as_object().cloned().unwrap_or_default();
    for k in obj.keys() {
        if !FILTER_ARGS.contains(&k.as_str()) && !crate::config::ACCESS.contains(&k.as_str()) {
            return Err(format!("an argument named {k:?} is not expected here"));
        }
    }
    let filter: AmiFilter = serde_json::from_value(serde_json::Value::Object(
        obj.iter()
            .filter(|(k, _)| FILTER_ARGS.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    ))
    .map_err(|e| e.to_string())?;
    if filter.is_empty() {
        return Err("The `filters` must be specified".into());
    }
    if filter.owners.is_empty() {
        return Err("For security reasons, you must declare an owner.".into());
    }
    let access: AmazonConfig = serde_json::from_value(serde_json::Value::Object(
        obj.into_iter()
            .filter(|(k, _)| !FILTER_ARGS.contains(&k.as_str()))
            .collect(),
    ))
    .map_err(|e| e.to_string())?;
    std::thread::scope(|s| {
        s.spawn(|| {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            rt.block_on(async {
                let access = Access::load(&access).await;
                let region = access.region().ok_or(
                    "No region: set region, AWS_REGION, or a region in the AWS config file's profile",
                )?;
                let image = crate::steps::find_image(&access.ec2(&region), &filter).await?;
                let owner = image.owner_id().unwrap_or_default().to_string();
                let tags: serde_json::Map<String, serde_json::Value> = image
                    .tags()
                    .iter()
                    .map(|t| {
                        (
                            t.key().unwrap_or_default().to_string(),
                            serde_json::Value::from(t.value().unwrap_or_default()),
                        )
                    })
                    .collect();
                Ok(serde_json::json!({
                    "id": image.image_id().unwrap_or_default(),
                    "name": image.name().unwrap_or_default(),
                    "creation_date": image.creation_date().unwrap_or_default(),
                    "owner_name": image.image_owner_alias().map_or_else(|| owner.clone(), String::from),
                    "owner": owner,
                    "tags": tags,
                }))
            })
        })
        .join()
        .map_err(|_| "the amazon-ami lookup failed".to_string())?
    })
}
