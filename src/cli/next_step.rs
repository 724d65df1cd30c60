//! A command that names something that does not exist says which command lists what does.

use crate::delivery::DeliveryError;
use crate::domain::error::DomainError;

/// `e`, with the command that shows what exists when `e` is a "not found".
pub fn with_next_step(e: anyhow::Error) -> anyhow::Error {
    let listing = match e.downcast_ref::<DomainError>() {
        Some(DomainError::NotFound { kind, .. }) => match *kind {
            "tenant" => "roster tenant list",
            "directory" => "roster directory list",
            "active token" => "roster token list",
            "active application key" => "roster app-key list",
            "request log entry" => "roster log list --directory DIRECTORY",
            _ => return e,
        },
        _ => match e.downcast_ref::<DeliveryError>() {
            Some(DeliveryError::NotFound(_)) => "roster webhook list",
            _ => return e,
        },
    };
    anyhow::anyhow!("{e}; `{listing}` shows what there is")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_names_the_listing_command() {
        let e = with_next_step(
            DomainError::NotFound {
                kind: "tenant",
                id: "acme".into(),
            }
            .into(),
        );
        assert_eq!(
            e.to_string(),
            "tenant acme not found; `roster tenant list` shows what there is"
        );
        let e = with_next_step(DeliveryError::NotFound("wh_1".into()).into());
        assert!(
            e.to_string()
                .ends_with("`roster webhook list` shows what there is")
        );
        let other = with_next_step(anyhow::anyhow!("disk full"));
        assert_eq!(other.to_string(), "disk full");
    }
}
