//! What the request log must never keep: the attributes the schemas call secret
//! (`scim::secret`), anything named like a secret, and anything that looks like a credential.
//! Pure functions, so the rules are tested on their own.

use serde_json::Value;

use crate::domain::token::TOKEN_PREFIX;
use crate::scim::schema::{ResourceKind, SchemaRegistry};
use crate::scim::secret::{Treatment, secret_names, treat_secrets};

pub const REDACTED: &str = "[redacted]";

/// Whether an attribute name or SCIM path names a secret: its last segment, after any URN
/// prefix (`urn:…:User:password`) or parent (`x.clientSecret`), mentions one. `_` and `-` are
/// ignored (`private_key` is `privateKey`); `pin` counts only as a word of its own (`pin`,
/// `userPIN`, `pin_code`), since as a substring it is in `shipping` and `mapping`.
fn names_secret(name: &str) -> bool {
    let last = name
        .split('[')
        .next()
        .unwrap_or(name)
        .rsplit([':', '.'])
        .next()
        .unwrap_or(name);
    let squashed: String = last
        .chars()
        .filter(|c| !matches!(c, '_' | '-'))
        .map(|c| c.to_ascii_lowercase())
        .collect();
    SECRET_WORDS.iter().any(|s| squashed.contains(s))
        || words(last).any(|w| SECRET_WHOLE_WORDS.iter().any(|s| w.eq_ignore_ascii_case(s)))
}

/// Secret if anywhere in a name, ignoring case, `_` and `-`.
const SECRET_WORDS: [&str; 7] = [
    "password",
    "secret",
    "token",
    "authorization",
    "apikey",
    "privatekey",
    "credential",
];

/// Secret only as a whole word of a name.
const SECRET_WHOLE_WORDS: [&str; 1] = ["pin"];

/// The words of a name written in camelCase, snake_case or kebab-case; a run of capitals is
/// one word (`userPINCode` is `user`, `PIN`, `Code`).
fn words(name: &str) -> impl Iterator<Item = &str> {
    let bytes = name.as_bytes();
    let mut starts = Vec::new();
    let mut ends = Vec::new();
    let mut start: Option<usize> = None;
    for (i, &b) in bytes.iter().enumerate() {
        if !b.is_ascii_alphanumeric() {
            if let Some(s) = start.take() {
                starts.push(s);
                ends.push(i);
            }
            continue;
        }
        let boundary = i > 0
            && b.is_ascii_uppercase()
            && (!bytes[i - 1].is_ascii_uppercase()
                || bytes.get(i + 1).is_some_and(u8::is_ascii_lowercase));
        if let Some(s) = start.filter(|_| boundary) {
            starts.push(s);
            ends.push(i);
            start = None;
        }
        start.get_or_insert(i);
    }
    if let Some(s) = start {
        starts.push(s);
        ends.push(bytes.len());
    }
    starts.into_iter().zip(ends).map(move |(s, e)| &name[s..e])
}

/// Whether `lower` (a text in lowercase) could hold anything the rules above redact: the
/// start of a secret word or of a credential-like value, anywhere in it. A JSON `\u` escape
/// could spell one the raw text hides, so any escape counts too, and so does a percent-encoded
/// one. Most bodies hold none, and skip the parse.
fn may_hold_secret(lower: &str) -> bool {
    let mentions = |t: &str| {
        [
            "password",
            "secret",
            "token",
            "authorization",
            "api",
            "private",
            "credential",
            "pin",
        ]
        .iter()
        .chain(&["bearer ", "basic ", TOKEN_PREFIX, "eyj"])
        .any(|needle| t.contains(needle))
    };
    lower.contains("\\u")
        || mentions(lower)
        || (lower.contains('%') && mentions(&percent_decoded(lower).to_ascii_lowercase()))
}

fn percent_decoded(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

/// Whether a value looks like a credential wherever it appears: a bearer header value, a
/// Roster token, or a JWT.
fn looks_like_credential(s: &str) -> bool {
    let s = s.trim();
    let lower = s.to_ascii_lowercase();
    if lower.starts_with("bearer ") || lower.starts_with("basic ") {
        return true;
    }
    if s.starts_with(TOKEN_PREFIX) && s.len() > TOKEN_PREFIX.len() + 16 {
        return true;
    }
    let parts: Vec<&str> = s.split('.').collect();
    s.starts_with("eyJ")
        && parts.len() == 3
        && parts.iter().all(|p| {
            p.len() >= 2
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'=')
        })
}

/// Redacts a JSON body in place: values of secret-named keys, the `value` of a PATCH operation
/// whose `path` names a secret, and credential-like strings anywhere.
pub fn redact_json(value: &mut Value) {
    match value {
        Value::String(s) if looks_like_credential(s) => *s = REDACTED.to_string(),
        Value::Array(items) => items.iter_mut().for_each(redact_json),
        Value::Object(map) => {
            let secret_path = map
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("path"))
                .and_then(|(_, p)| p.as_str())
                .is_some_and(names_secret);
            for (key, v) in map.iter_mut() {
                let secret =
                    names_secret(key) || (secret_path && key.eq_ignore_ascii_case("value"));
                if secret && !v.is_null() {
                    *v = Value::String(REDACTED.to_string());
                } else {
                    redact_json(v);
                }
            }
        }
        _ => {}
    }
}

/// Redacts bodies by the schemas' secrets as well as by the rules above.
pub struct Redactor {
    registry: SchemaRegistry,
    /// The schemas' secret attribute names, lowercase.
    names: Vec<String>,
}

impl Redactor {
    pub fn new(registry: SchemaRegistry) -> Redactor {
        let names = secret_names(&registry)
            .into_iter()
            .map(str::to_ascii_lowercase)
            .collect();
        Redactor { registry, names }
    }

    /// Redacts a body as text; `kind` is the resource type its endpoint serves, when it serves
    /// one. Valid JSON is redacted by its structure; anything else that mentions a secret is
    /// dropped whole, since its structure cannot be trusted.
    pub fn body(&self, text: &str, kind: Option<ResourceKind>) -> String {
        let lower = text.to_ascii_lowercase();
        if !may_hold_secret(&lower) && !self.names.iter().any(|n| lower.contains(n.as_str())) {
            return text.to_string();
        }
        match serde_json::from_str::<Value>(text) {
            Ok(mut v) => {
                treat_secrets(&self.registry, kind, &mut v, Treatment::Replace(REDACTED));
                redact_json(&mut v);
                v.to_string()
            }
            Err(_) => redact_text(text, &self.names),
        }
    }
}

/// A body that is not JSON: kept whole, or dropped whole when any word of it, as written or
/// percent-decoded, names a secret or looks like a credential.
fn redact_text(text: &str, schema_names: &[String]) -> String {
    let decoded = percent_decoded(text);
    let secret = [text, decoded.as_str()].iter().any(|t| {
        looks_like_credential(t)
            || t.split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':')))
                .any(|w| {
                    !w.is_empty()
                        && (names_secret(w)
                            || looks_like_credential(w)
                            || schema_names.iter().any(|n| {
                                w.rsplit([':', '.'])
                                    .next()
                                    .is_some_and(|l| l.eq_ignore_ascii_case(n))
                            }))
                })
    });
    if secret {
        REDACTED.to_string()
    } else {
        text.to_string()
    }
}

/// `s` with every double-quoted string (a filter's values) blanked out.
fn unquoted(s: &str) -> String {
    let mut quoted = false;
    let mut escaped = false;
    s.chars()
        .map(|c| {
            let inside = quoted;
            match c {
                _ if escaped => escaped = false,
                '\\' if quoted => escaped = true,
                '"' => quoted = !quoted,
                _ => {}
            }
            if inside || c == '"' { ' ' } else { c }
        })
        .collect()
}

/// Redacts a query string: parameters named like secrets, credential-like values, and filters
/// that mention a secret attribute (`filter=password eq "…"`).
pub fn redact_query(query: &str) -> String {
    query
        .split('&')
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            // Judged as the server reads them: `pass%77ord` is `password`.
            let (decoded_name, decoded) = url::form_urlencoded::parse(pair.as_bytes())
                .next()
                .map(|(n, v)| (n.into_owned(), v.into_owned()))
                .unwrap_or_default();
            // Only attribute names count, not quoted values: `displayName eq "Secret Santa"`
            // stays as it is.
            let mentions = unquoted(&decoded)
                .split(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | '[' | ']'))
                .any(names_secret);
            if !value.is_empty()
                && (names_secret(&decoded_name) || mentions || looks_like_credential(&decoded))
            {
                format!("{name}={REDACTED}")
            } else {
                pair.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn redact_body(text: &str) -> String {
        Redactor::new(SchemaRegistry::builtin()).body(text, None)
    }

    #[test]
    fn json_bodies() {
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";
        // (before, after)
        let cases = [
            (
                json!({"userName": "ann", "password": "S3cret!"}),
                json!({"userName": "ann", "password": REDACTED}),
            ),
            (
                json!({"urn:ietf:params:scim:schemas:core:2.0:User:password": "x"}),
                json!({"urn:ietf:params:scim:schemas:core:2.0:User:password": REDACTED}),
            ),
            (
                json!({"Operations": [
                    {"op": "replace", "path": "password", "value": "x"},
                    {"op": "Replace", "Path": "urn:ietf:params:scim:schemas:core:2.0:User:password", "Value": "y"},
                    {"op": "replace", "value": {"password": "z", "active": true}},
                    {"op": "replace", "path": "displayName", "value": "Ann"}
                ]}),
                json!({"Operations": [
                    {"op": "replace", "path": "password", "value": REDACTED},
                    {"op": "Replace", "Path": "urn:ietf:params:scim:schemas:core:2.0:User:password", "Value": REDACTED},
                    {"op": "replace", "value": {"password": REDACTED, "active": true}},
                    {"op": "replace", "path": "displayName", "value": "Ann"}
                ]}),
            ),
            (
                json!({"Operations": [{"method": "POST", "data": {"userName": "b", "password": "p"}}]}),
                json!({"Operations": [{"method": "POST", "data": {"userName": "b", "password": REDACTED}}]}),
            ),
            (
                json!({"x": {"clientSecret": {"nested": 1}}, "apiToken": "t", "password": null}),
                json!({"x": {"clientSecret": REDACTED}, "apiToken": REDACTED, "password": null}),
            ),
            (
                json!({"note": "Bearer abc", "id": jwt, "t": format!("{TOKEN_PREFIX}{}", "ab".repeat(32))}),
                json!({"note": REDACTED, "id": REDACTED, "t": REDACTED}),
            ),
            (
                json!({"displayName": "Ann", "emails": [{"value": "a@x.com"}], "version": "W/\"3\"", "n": 1.5}),
                json!({"displayName": "Ann", "emails": [{"value": "a@x.com"}], "version": "W/\"3\"", "n": 1.5}),
            ),
        ];
        for (before, after) in cases {
            let mut v = before.clone();
            redact_json(&mut v);
            assert_eq!(v, after, "from {before}");
            let text: Value = serde_json::from_str(&redact_body(&before.to_string())).unwrap();
            assert_eq!(text, after, "redact_body of {before}");
        }
    }

    #[test]
    fn secret_words_in_any_spelling() {
        // (name, secret?)
        let names = [
            ("privateKey", true),
            ("private_key", true),
            ("PRIVATE-KEY", true),
            ("pin", true),
            ("PIN", true),
            ("userPin", true),
            ("userPINCode", true),
            ("pin_code", true),
            ("secret", true),
            ("apiKey", true),
            ("API_KEY", true),
            ("clientSecret", true),
            ("urn:example:acme:2.0:User:cardPin", true),
            ("shippingAddress", false),
            ("mapping", false),
            ("spinner", false),
            ("opinion", false),
            ("displayName", false),
        ];
        for (name, secret) in names {
            assert_eq!(names_secret(name), secret, "{name}");
            let mut body = json!({"a": [{"b": {name: "v"}}]});
            redact_json(&mut body);
            let redacted = body["a"][0]["b"][name] == json!(REDACTED);
            assert_eq!(redacted, secret, "{name} in a body");
            let text = format!(r#"{{"a":[{{"b":{{"{name}":"v"}}}}]}}"#);
            assert_eq!(
                redact_body(&text).contains(r#":"v""#),
                !secret,
                "{name} in body text"
            );
            let query = format!("{name}=v&count=1");
            let want = if secret {
                format!("{name}={REDACTED}&count=1")
            } else {
                query.clone()
            };
            assert_eq!(redact_query(&query), want, "{name} in a query");
        }
    }

    #[test]
    fn percent_encoded_names() {
        // (query, redacted)
        let queries = [
            ("pass%77ord=x&count=1", "pass%77ord=[redacted]&count=1"),
            ("%70assword=x", "%70assword=[redacted]"),
            ("%50IN=1234", "%50IN=[redacted]"),
            ("client%5Fsecret=s", "client%5Fsecret=[redacted]"),
            ("private%4Bey=k", "private%4Bey=[redacted]"),
            ("filter=pass%77ord%20pr", "filter=[redacted]"),
            ("%63ount=1", "%63ount=1"),
        ];
        for (before, after) in queries {
            assert_eq!(redact_query(before), after, "{before}");
        }
        assert_eq!(redact_body("pass%77ord=hunter2&user=ann"), REDACTED);
        assert_eq!(redact_body("user=ann&note=100%25"), "user=ann&note=100%25");
    }

    #[test]
    fn bodies_without_secrets_are_kept_as_sent_and_escapes_do_not_hide_one() {
        let plain = "{\n  \"userName\": \"ann\",\n  \"active\": true\n}";
        assert_eq!(redact_body(plain), plain);
        assert_eq!(
            redact_body(r#"{"pass\u0077ord":"x","userName":"ann"}"#),
            format!(r#"{{"password":"{REDACTED}","userName":"ann"}}"#)
        );
        assert_eq!(
            redact_body(r#"{"note":"\u0042earer abc"}"#),
            format!(r#"{{"note":"{REDACTED}"}}"#)
        );
    }

    #[test]
    fn text_bodies_and_queries() {
        assert_eq!(
            redact_body(r#"{"password":"x"}"#),
            format!(r#"{{"password":"{REDACTED}"}}"#)
        );
        assert_eq!(
            redact_body(r#"{"userName": "a", "password": "x""#),
            REDACTED
        );
        assert_eq!(redact_body("not json at all"), "not json at all");
        assert_eq!(redact_body("Bearer abc.def"), REDACTED);
        let cases = [
            (
                "filter=userName%20eq%20%22a%22&count=1",
                "filter=userName%20eq%20%22a%22&count=1",
            ),
            (
                "access_token=abc&count=1",
                "access_token=[redacted]&count=1",
            ),
            ("filter=password+eq+%22x%22", "filter=[redacted]"),
            (
                "filter=displayName%20eq%20%22Secret%20%5C%22token%5C%22%20Santa%22",
                "filter=displayName%20eq%20%22Secret%20%5C%22token%5C%22%20Santa%22",
            ),
            (
                "filter=urn:ietf:params:scim:schemas:core:2.0:User:password%20pr",
                "filter=[redacted]",
            ),
            (
                "a=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln",
                "a=[redacted]",
            ),
            ("startIndex=1&count=100&", "startIndex=1&count=100&"),
            ("", ""),
        ];
        for (before, after) in cases {
            assert_eq!(redact_query(before), after, "{before}");
        }
    }
}
