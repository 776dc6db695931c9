//! Control characters in trail fields: escaped in the table, kept byte for byte in CSV and JSON.

use std::sync::Arc;

use ctq_sql::arrow::array::{RecordBatch, StringArray};
use ctq_sql::arrow::datatypes::{DataType, Field, Schema};
use ctq_sql::output::{OutputFormat, printable, text_rows, write_results};

const AGENT: &str = "\u{1b}]0;pwned\u{7}curl\u{1b}[2J";
const MESSAGE: &str = "denied\n| fake | row |";

fn batch() -> (Vec<String>, Vec<RecordBatch>) {
    let columns = vec!["useragent".to_string(), "errormessage".to_string()];
    let schema = Arc::new(Schema::new(vec![
        Field::new("useragent", DataType::Utf8, true),
        Field::new("errormessage", DataType::Utf8, true),
    ]));
    let batch = RecordBatch::try_new(
        schema,
        vec![
            Arc::new(StringArray::from(vec![Some(AGENT), Some("aws-cli/2")])),
            Arc::new(StringArray::from(vec![Some(MESSAGE), None])),
        ],
    )
    .unwrap();
    (columns, vec![batch])
}

fn written(format: OutputFormat) -> String {
    let (columns, batches) = batch();
    let mut out = Vec::new();
    write_results(&mut out, format, &columns, &batches).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn printable_escapes_each_control_character_and_nothing_else() {
    assert!(matches!(
        printable("arn:aws:iam::1:user/a\\b é"),
        std::borrow::Cow::Borrowed(_)
    ));
    assert_eq!(
        printable("a\tb\nc\rd\u{0}\u{7}\u{1b}\u{1f}\u{7f}\u{80}\u{9b}\u{9f}\u{a0}e"),
        "a\\tb\\nc\\rd\\x00\\x07\\x1b\\x1f\\x7f\\x80\\x9b\\x9f\u{a0}e"
    );
    assert_eq!(printable(AGENT), "\\x1b]0;pwned\\x07curl\\x1b[2J");
}

#[test]
fn the_table_shows_control_characters_escaped_one_line_per_row() {
    let table = written(OutputFormat::Table);
    assert_eq!(
        table,
        "\
+-----------------------------+------------------------+
| useragent                   | errormessage           |
+-----------------------------+------------------------+
| \\x1b]0;pwned\\x07curl\\x1b[2J | denied\\n| fake | row | |
| aws-cli/2                   |                        |
+-----------------------------+------------------------+
"
    );
    assert!(!table.bytes().any(|b| b == 0x1b || b == 0x07));
    assert_eq!(
        text_rows(&batch().1).unwrap()[0],
        [
            Some("\\x1b]0;pwned\\x07curl\\x1b[2J".to_string()),
            Some("denied\\n| fake | row |".to_string())
        ]
    );
}

#[test]
fn csv_and_json_keep_control_characters_byte_for_byte() {
    assert_eq!(
        written(OutputFormat::Csv),
        format!("\"useragent\",\"errormessage\"\n\"{AGENT}\",\"{MESSAGE}\"\n\"aws-cli/2\",\n")
    );
    let ndjson = written(OutputFormat::Ndjson);
    assert_eq!(
        ndjson,
        "{\"useragent\":\"\\u001b]0;pwned\\u0007curl\\u001b[2J\",\"errormessage\":\"denied\\n| fake | row |\"}\n\
         {\"useragent\":\"aws-cli/2\",\"errormessage\":null}\n"
    );
    let json: serde_json::Value = serde_json::from_str(&written(OutputFormat::Json)).unwrap();
    assert_eq!(json[0]["useragent"], AGENT);
    assert_eq!(json[0]["errormessage"], MESSAGE);
}
