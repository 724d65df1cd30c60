//! Query-string parameters of the application API, checked with messages that name the
//! parameter and what it takes.

use std::collections::HashMap;

use super::error::AppError;

pub struct Params(HashMap<String, String>);

impl Params {
    pub fn of(query: &str) -> Result<Params, AppError> {
        let mut map = HashMap::new();
        for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
            if map.insert(k.to_string(), v.to_string()).is_some() {
                return Err(AppError::BadRequest(format!(
                    "'{k}' is given more than once"
                )));
            }
        }
        Ok(Params(map))
    }

    pub fn text(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// An integer within `min..=max`, or `default` when absent.
    pub fn int(&self, name: &str, min: i64, max: i64, default: i64) -> Result<i64, AppError> {
        let Some(text) = self.text(name) else {
            return Ok(default);
        };
        text.parse::<i64>()
            .ok()
            .filter(|n| (min..=max).contains(n))
            .ok_or_else(|| {
                AppError::BadRequest(format!(
                    "'{name}' must be an integer from {min} to {max}, not '{}'",
                    text.chars().take(40).collect::<String>()
                ))
            })
    }
}
