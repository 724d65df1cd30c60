//! Every command and subcommand says in one line what it does.

use std::process::Command;

use crate::support::roster_bin;

/// The commands `roster ARGS --help` lists, each with its one-line help (empty when it has
/// none).
fn listed(args: &[&str]) -> Vec<(String, String)> {
    let out = Command::new(roster_bin())
        .args(args)
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success(), "roster {args:?} --help failed");
    let text = String::from_utf8(out.stdout).unwrap();
    text.lines()
        .skip_while(|l| *l != "Commands:")
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .map(|l| {
            let l = l.trim();
            let (name, help) = l.split_once(char::is_whitespace).unwrap_or((l, ""));
            (name.to_string(), help.trim().to_string())
        })
        .collect()
}

#[test]
fn every_command_and_subcommand_has_a_one_line_help() {
    let mut pending = vec![Vec::<String>::new()];
    let mut seen = 0;
    let mut missing = Vec::new();
    while let Some(path) = pending.pop() {
        let args: Vec<&str> = path.iter().map(String::as_str).collect();
        for (name, help) in listed(&args) {
            if name == "help" {
                continue;
            }
            seen += 1;
            let mut sub = path.clone();
            sub.push(name);
            if help.is_empty() {
                missing.push(sub.join(" "));
            }
            pending.push(sub);
        }
    }
    assert!(seen > 30, "only {seen} commands found");
    assert!(missing.is_empty(), "no help for: {missing:?}");
}

#[test]
fn naming_what_does_not_exist_says_how_to_list_what_does() {
    let db = crate::support::TestDb::new(crate::support::Backend::Sqlite);
    for (args, listing) in [
        (
            &[
                "directory",
                "create",
                "--tenant",
                "nope",
                "--kind",
                "okta",
                "x",
            ][..],
            "`roster tenant list`",
        ),
        (
            &["token", "issue", "--directory", "nope"][..],
            "`roster directory list`",
        ),
        (&["webhook", "delete", "nope"][..], "`roster webhook list`"),
    ] {
        let out = crate::support::cli(&db, args);
        assert!(!out.status.success());
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(said.contains(listing), "roster {args:?}: {said}");
    }
}
