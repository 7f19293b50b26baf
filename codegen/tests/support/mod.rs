//! The snapshot harness shared by the wire and workflow snapshot tests.
#![allow(dead_code)]

/// Whether snapshots are being refreshed (`UPDATE_SNAPSHOTS=1`).
pub(crate) fn updating() -> bool {
    std::env::var_os("UPDATE_SNAPSHOTS").is_some_and(|value| value == "1")
}

/// A line diff (longest common subsequence), printing only changed lines with a few
/// lines of context. Snapshots are small, so the quadratic table is fine.
pub(crate) fn line_diff(expected: &str, actual: &str) -> String {
    let old: Vec<&str> = expected.lines().collect();
    let new: Vec<&str> = actual.lines().collect();
    let mut lcs = vec![vec![0usize; new.len() + 1]; old.len() + 1];
    for i in (0..old.len()).rev() {
        for j in (0..new.len()).rev() {
            lcs[i][j] = if old[i] == new[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    // (tag, old line number, text)
    let mut ops: Vec<(char, usize, &str)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < old.len() || j < new.len() {
        if i < old.len() && j < new.len() && old[i] == new[j] {
            ops.push((' ', i + 1, old[i]));
            i += 1;
            j += 1;
        } else if i < old.len() && (j == new.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            ops.push(('-', i + 1, old[i]));
            i += 1;
        } else {
            ops.push(('+', i + 1, new[j]));
            j += 1;
        }
    }
    const CONTEXT: usize = 3;
    let changed: Vec<usize> = (0..ops.len()).filter(|&k| ops[k].0 != ' ').collect();
    let mut out = String::new();
    let mut last_printed: Option<usize> = None;
    for (k, &(tag, old_line, text)) in ops.iter().enumerate() {
        let near = changed
            .iter()
            .any(|&c| k + CONTEXT >= c && k <= c + CONTEXT);
        if !near {
            continue;
        }
        if last_printed.is_none_or(|last| last + 1 != k) {
            out.push_str(&format!("@@ expected line {old_line} @@\n"));
        }
        out.push_str(&format!("{tag} {text}\n"));
        last_printed = Some(k);
    }
    out
}

/// Compares `generated` with the snapshot file `expected_path` (or rewrites it when
/// updating), returning a failure message naming the case.
pub(crate) fn check_snapshot(
    name: &str,
    expected_path: &std::path::Path,
    generated: &str,
) -> Option<String> {
    if updating() {
        if let Err(err) = std::fs::write(expected_path, generated) {
            return Some(format!(
                "{name}: cannot write {}: {err}",
                expected_path.display()
            ));
        }
        return None;
    }
    match std::fs::read_to_string(expected_path) {
        Ok(expected) if expected == generated => None,
        Ok(expected) => Some(format!(
            "{name}: generated code differs from {} (- expected, + generated; \
             rerun with UPDATE_SNAPSHOTS=1 to accept):\n{}",
            expected_path.display(),
            line_diff(&expected, generated)
        )),
        Err(err) => Some(format!(
            "{name}: cannot read {} ({err}); run with UPDATE_SNAPSHOTS=1 to create it",
            expected_path.display()
        )),
    }
}

#[test]
fn line_diff_shows_changed_lines_with_context() {
    let diff = line_diff("a\nb\nc\nd\n", "a\nb\nX\nd\ne\n");
    assert_eq!(
        diff,
        "@@ expected line 1 @@\n  a\n  b\n- c\n+ X\n  d\n+ e\n"
    );
    assert_eq!(line_diff("same\n", "same\n"), "");
}
