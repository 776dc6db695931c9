//! Real CloudTrail records from public repositories, when `../shared/realdata` is present: the
//! record and denial counts of each folder equal the table of its SOURCES.md.

use crate::support::*;

fn number(cell: &str) -> u64 {
    cell.trim().replace(',', "").parse().unwrap()
}

#[test]
fn every_folder_gives_the_counts_of_its_sources_table() {
    let Some(dir) = ctq_testkit::realdata() else {
        skip("../shared/realdata is not present");
        return;
    };
    let sources = std::fs::read_to_string(dir.join("SOURCES.md")).unwrap();
    let mut checked = 0;
    for line in sources.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let folder = cells[1].trim_matches('`').trim_end_matches('/');
        let (files, records, denials) = (number(cells[4]), number(cells[5]), number(cells[6]));
        let scanned = scan(&[dir.join(folder)]);
        assert_eq!(
            scanned.report.damaged().count(),
            0,
            "{folder}: {:?}",
            scanned.report.damaged().collect::<Vec<_>>()
        );
        assert_eq!(scanned.report.files_read() as u64, files, "{folder}: files");
        assert_eq!(scanned.rows() as u64, records, "{folder}: records");
        let denied = scanned
            .strings("errorcode")
            .iter()
            .flatten()
            .filter(|c| {
                let c = c.to_lowercase();
                c.contains("accessdenied") || c.contains("unauthorized")
            })
            .count() as u64;
        assert_eq!(denied, denials, "{folder}: denials");
        checked += 1;
    }
    assert!(checked >= 9, "SOURCES.md table rows found: {checked}");
}
