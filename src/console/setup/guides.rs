//! The IdP guides of `docs/idp/`, embedded at compile time and rendered from Markdown for the
//! setup page, with the directory's real SCIM base URL where they speak of it.

use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd, html};

/// The IdPs the picker offers: slug, name, guide.
pub const IDPS: [(&str, &str, &str); 7] = [
    (
        "entra",
        "Microsoft Entra ID",
        include_str!("../../../docs/idp/entra.md"),
    ),
    ("okta", "Okta", include_str!("../../../docs/idp/okta.md")),
    (
        "onelogin",
        "OneLogin",
        include_str!("../../../docs/idp/onelogin.md"),
    ),
    (
        "jumpcloud",
        "JumpCloud",
        include_str!("../../../docs/idp/jumpcloud.md"),
    ),
    (
        "ping",
        "Ping Identity",
        include_str!("../../../docs/idp/ping.md"),
    ),
    (
        "rippling",
        "Rippling",
        include_str!("../../../docs/idp/rippling.md"),
    ),
    (
        "generic",
        "Another SCIM 2.0 client",
        include_str!("../../../docs/idp/generic.md"),
    ),
];

pub const GOOGLE_GUIDE: &str = include_str!("../../../docs/idp/google-workspace.md");

/// The example URL the guides use for the SCIM base URL.
const EXAMPLE_BASE_URL: &str = "https://roster.example.com/scim/v2";

/// The guide of `slug`, if the picker offers it.
pub fn guide(slug: &str) -> Option<&'static str> {
    IDPS.iter().find(|(s, _, _)| *s == slug).map(|(_, _, g)| *g)
}

/// Whether a section is the operator's, not the IT admin's: making the directory in Roster,
/// which the operator did before sending the link.
fn operators_section(heading: &str) -> bool {
    heading.starts_with("1. Create the directory") || heading.contains("In Roster")
}

/// A SCIM IdP's guide as HTML for the page (`render_sections`).
pub fn render(markdown: &str, scim_base_url: &str) -> String {
    render_sections(markdown, scim_base_url, operators_section)
}

/// The Google guide's steps for the customer's admin: the service account and its delegation
/// (sections 1 and 2); the rest is the operator's.
pub fn render_google() -> String {
    render_sections(GOOGLE_GUIDE, "", |heading| {
        !(heading.starts_with("1.") || heading.starts_with("2."))
    })
}

/// The guide as HTML: the sections `skip` names left out, the SCIM base URL filled in, raw
/// HTML shown as text (a guide is ours, but the page is for another organization's admin).
fn render_sections(markdown: &str, scim_base_url: &str, skip: impl Fn(&str) -> bool) -> String {
    let text = markdown.replace(EXAMPLE_BASE_URL, scim_base_url).replace(
        "the SCIM base URL",
        &format!("the SCIM base URL (`{scim_base_url}`)"),
    );
    let mut events = Vec::new();
    // A guide's opening (title, sources) is for the operator reading docs/; the page starts
    // at its first section.
    let mut skipping = true;
    let mut heading: Option<(HeadingLevel, Vec<Event<'_>>)> = None;
    for event in Parser::new_ext(&text, Options::ENABLE_TABLES) {
        match event {
            Event::Start(Tag::Heading { level, .. }) if level <= HeadingLevel::H2 => {
                heading = Some((level, vec![event]));
            }
            Event::End(TagEnd::Heading(level)) if heading.is_some() => {
                let (_, mut held) = heading.take().unwrap_or((level, Vec::new()));
                let title: String = held
                    .iter()
                    .filter_map(|e| match e {
                        Event::Text(t) | Event::Code(t) => Some(t.to_string()),
                        _ => None,
                    })
                    .collect();
                held.push(event);
                // The page has its own title; a guide's H1 would repeat it, and the opening
                // under it goes too.
                if level == HeadingLevel::H2 {
                    skipping = skip(&title);
                    if !skipping {
                        events.extend(held);
                    }
                }
            }
            e if heading.is_some() => {
                if let Some((_, held)) = heading.as_mut() {
                    held.push(e);
                }
            }
            Event::Html(raw) | Event::InlineHtml(raw) if !skipping => {
                events.push(Event::Text(raw));
            }
            e if !skipping => events.push(e),
            _ => {}
        }
    }
    // Headings move down one level: the page's sections are H2.
    let shifted = events.into_iter().map(|e| match e {
        Event::Start(Tag::Heading {
            level,
            id,
            classes,
            attrs,
        }) => Event::Start(Tag::Heading {
            level: lower(level),
            id,
            classes,
            attrs,
        }),
        Event::End(TagEnd::Heading(level)) => Event::End(TagEnd::Heading(lower(level))),
        e => e,
    });
    let mut out = String::new();
    html::push_html(&mut out, shifted);
    out
}

fn lower(level: HeadingLevel) -> HeadingLevel {
    match level {
        HeadingLevel::H1 | HeadingLevel::H2 => HeadingLevel::H3,
        HeadingLevel::H3 => HeadingLevel::H4,
        HeadingLevel::H4 => HeadingLevel::H5,
        _ => HeadingLevel::H6,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_guide_renders_with_the_real_url_and_without_the_operators_part() {
        let url = "https://sso.acme.test/scim/v2";
        for (slug, _, markdown) in IDPS {
            let html = render(markdown, url);
            assert!(html.contains(url), "{slug}: no SCIM base URL");
            assert!(!html.contains(EXAMPLE_BASE_URL), "{slug}");
            assert!(!html.contains("roster directory create"), "{slug}");
            assert!(!html.contains("<h1"), "{slug}");
            assert!(
                !html.contains("idp-behaviour.md"),
                "{slug}: the operator's opening"
            );
            assert!(html.contains("<h3"), "{slug}");
        }
        let google = render_google();
        assert!(google.contains("domain-wide delegation"));
        assert!(!google.contains("ROSTER_SECRET_KEY"));
        assert!(!google.contains("Known gaps"));
    }

    #[test]
    fn raw_html_is_shown_as_text() {
        let html = render("## 2. Steps\n\n<script>alert(1)</script>\n", "u");
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
    }
}
