//! CREATE TABLE statements that let other engines read the store, so that the same
//! `queries/*.sql` run there.

use arrow_schema::DataType;

use crate::{STORE_PARTITION_COLUMNS, store_schema};

/// An engine that reads Hive-partitioned Parquet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Athena,
    Trino,
    Spark,
}

/// The statements that register the store at `location` as `table` in `engine`, and load its
/// partitions.
pub fn create_table(engine: Engine, location: &str, table: &str) -> String {
    let mut location = location.replace('\'', "''");
    if !location.ends_with('/') {
        location.push('/');
    }
    let schema = store_schema();
    let columns = schema.fields().iter().map(|f| (f.name(), f.data_type()));
    match engine {
        Engine::Athena | Engine::Spark => {
            let mut lines: Vec<String> = columns
                .map(|(name, t)| format!("  `{name}` {}", hive_type(t)))
                .collect();
            let partitions: Vec<String> = STORE_PARTITION_COLUMNS
                .iter()
                .map(|p| format!("`{p}` string"))
                .collect();
            if engine == Engine::Athena {
                format!(
                    "CREATE EXTERNAL TABLE IF NOT EXISTS `{table}` (\n{}\n)\nPARTITIONED BY ({})\nSTORED AS PARQUET\nLOCATION '{location}';\n\nMSCK REPAIR TABLE `{table}`;\n",
                    lines.join(",\n"),
                    partitions.join(", ")
                )
            } else {
                lines.extend(partitions.iter().map(|p| format!("  {p}")));
                format!(
                    "CREATE TABLE IF NOT EXISTS `{table}` (\n{}\n)\nUSING PARQUET\nPARTITIONED BY ({})\nLOCATION '{location}';\n\nMSCK REPAIR TABLE `{table}`;\n",
                    lines.join(",\n"),
                    STORE_PARTITION_COLUMNS
                        .iter()
                        .map(|p| format!("`{p}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        }
        Engine::Trino => {
            let mut lines: Vec<String> = columns
                .map(|(name, t)| format!("  \"{name}\" {}", trino_type(t)))
                .collect();
            lines.extend(
                STORE_PARTITION_COLUMNS
                    .iter()
                    .map(|p| format!("  \"{p}\" varchar")),
            );
            let partitioned: Vec<String> = STORE_PARTITION_COLUMNS
                .iter()
                .map(|p| format!("'{p}'"))
                .collect();
            format!(
                "CREATE TABLE IF NOT EXISTS hive.default.\"{table}\" (\n{}\n)\nWITH (\n  format = 'PARQUET',\n  external_location = '{location}',\n  partitioned_by = ARRAY[{}]\n);\n\nCALL hive.system.sync_partition_metadata('default', '{table}', 'ADD');\n",
                lines.join(",\n"),
                partitioned.join(", ")
            )
        }
    }
}

/// Hive's type names, as Athena and Spark write them.
fn hive_type(data_type: &DataType) -> String {
    ctq_ingest::athena_type_name(data_type)
}

fn trino_type(data_type: &DataType) -> String {
    match data_type {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "varchar".into(),
        DataType::Boolean => "boolean".into(),
        DataType::Int32 => "integer".into(),
        DataType::Int64 => "bigint".into(),
        DataType::Float64 => "double".into(),
        // The Hive connector stores timestamps without a zone; the values are UTC.
        DataType::Timestamp(_, _) => "timestamp(3)".into(),
        DataType::Struct(fields) => format!(
            "row({})",
            fields
                .iter()
                .map(|f| format!("\"{}\" {}", f.name(), trino_type(f.data_type())))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        DataType::List(item) | DataType::LargeList(item) => {
            format!("array({})", trino_type(item.data_type()))
        }
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(kv) if kv.len() == 2 => format!(
                "map({}, {})",
                trino_type(kv[0].data_type()),
                trino_type(kv[1].data_type())
            ),
            other => format!("map({other})"),
        },
        other => other.to_string().to_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_engine_gets_every_column_and_the_partitions() {
        for engine in [Engine::Athena, Engine::Trino, Engine::Spark] {
            let ddl = create_table(engine, "s3://bucket/it's/store", "cloudtrail");
            for field in store_schema().fields() {
                assert!(
                    ddl.contains(field.name().as_str()),
                    "{engine:?}: {}",
                    field.name()
                );
            }
            for partition in STORE_PARTITION_COLUMNS {
                assert!(ddl.contains(partition));
            }
            assert!(ddl.contains("s3://bucket/it''s/store/"), "{ddl}");
        }
        let trino = create_table(Engine::Trino, "s3://b/s", "cloudtrail");
        assert!(trino.contains("\"useridentity\" row(\"type\" varchar"));
        assert!(trino.contains("\"resources\" array(row("));
        let athena = create_table(Engine::Athena, "s3://b/s", "cloudtrail");
        assert!(athena.contains("`resources` array<struct<"));
        assert!(athena.contains(
            "PARTITIONED BY (`event_account` string, `event_region` string, `event_date` string)"
        ));
    }
}
