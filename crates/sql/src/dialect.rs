//! Athena's (Trino's) SQL where DataFusion's parser reads it otherwise: a statement is parsed
//! here and rewritten before DataFusion plans it.
//!
//! The rewrites are syntactic and keep the query's meaning as Athena gives it:
//!
//! - `IPADDRESS '10.0.0.0'` literals and `CAST(x AS IPADDRESS)` become calls of ctq's
//!   `ipaddress()`; DataFusion has no IPADDRESS type and its parser rejects the literal form.
//! - `try(expr)` becomes `expr` with every `CAST` inside it a `TRY_CAST`: a function cannot catch
//!   its argument's errors in DataFusion, and a failed cast is what `try` guards in CloudTrail
//!   queries.
//! - A dotted path into a JSON text column (`requestParameters.bucketName`,
//!   `ct.additionalEventData.bytesTransferredOut`), which Athena rejects because those columns are
//!   strings, reads the JSON as `json_extract_scalar(requestparameters, '$.bucketName')`. Only when
//!   unambiguous: no relation of the query is named like the column, and no table of the query
//!   has CloudTrail Lake's schema (where those columns are maps).
//!
//! - `FROM t CROSS JOIN UNNEST(t.resources) AS u (r)`, which DataFusion plans only over constants,
//!   becomes `FROM (SELECT *, unnest(t.resources) AS r FROM t) AS t`, and `u.r` reads `t.r`: the
//!   same rows, one per element, rows with an empty or NULL array dropped as Trino drops them.
//! - A field of a function's result, `element_at(resources, 1).arn`, is read as
//!   `element_at(resources, 1)['arn']`, the form DataFusion plans.
//!
//! Parameters are never spliced into the text: they stay `$name` placeholders, bound later.

use std::collections::{BTreeSet, VecDeque};
use std::ops::ControlFlow;

use datafusion::common::{DataFusionError, Result, not_impl_err, plan_datafusion_err};
use datafusion::sql::parser::{DFParserBuilder, Statement};
use datafusion::sql::sqlparser::ast::{
    AccessExpr, CastKind, DataType, Expr, Function, FunctionArg, FunctionArgExpr,
    FunctionArgumentList, FunctionArguments, Ident, Join, JoinConstraint, JoinOperator, ObjectName,
    ObjectNamePart, Query, SelectItem, SetExpr, Subscript, TableAlias, TableFactor, Value, Visit,
    VisitMut, Visitor, VisitorMut, visit_expressions_mut,
};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::parser::Parser;
use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer, Whitespace};

/// The columns of the Athena table that hold JSON text, which a dotted path reads into.
pub const JSON_TEXT_COLUMNS: [&str; 5] = [
    "requestparameters",
    "responseelements",
    "additionaleventdata",
    "serviceeventdetails",
    "edgedevicedetails",
];

/// What a rewrite needs to know of the session.
#[derive(Debug, Default, Clone)]
pub struct RewriteContext {
    /// Table names (as the query writes them, normalised) whose schema is CloudTrail Lake's.
    pub lake_tables: BTreeSet<String>,
}

/// Parses one statement the way Athena reads it, rewritten for DataFusion (see the module
/// documentation). `recursion_limit` is DataFusion's parser setting.
pub fn parse_statement(
    sql: &str,
    context: &RewriteContext,
    recursion_limit: usize,
) -> Result<Statement> {
    let rewritten = rewrite_ipaddress_literals(sql)?;
    let parsed = DFParserBuilder::new(rewritten.as_str())
        .with_dialect(&GenericDialect {})
        .with_recursion_limit(recursion_limit)
        .build()
        .and_then(|mut parser| parser.parse_statements());
    let mut statements: VecDeque<Statement> = match parsed {
        Ok(statements) => statements,
        Err(error) => {
            // Published queries leave `<EDS ID>` or `$EDS_ID` where the table goes: say so.
            if let Some(placeholder) = table_placeholder(sql) {
                return Err(plan_datafusion_err!(
                    "the query still holds the placeholder {placeholder} where a table name goes: put the table's name there (a CloudTrail Lake event data store's id in double quotes, with --lake-table ID)"
                ));
            }
            return Err(error);
        }
    };
    if statements.len() > 1 {
        return not_impl_err!(
            "one statement at a time: the text holds {}",
            statements.len()
        );
    }
    let mut statement = statements
        .pop_front()
        .ok_or_else(|| plan_datafusion_err!("the query is empty: no SQL statement in it"))?;
    if let Statement::Statement(inner) = &mut statement {
        rewrite(inner.as_mut(), context);
    }
    Ok(statement)
}

/// A `<name>` or `$name` right after `FROM` or `JOIN`: a template's placeholder for the table.
fn table_placeholder(sql: &str) -> Option<String> {
    let lower = sql.to_ascii_lowercase();
    for keyword in ["from", "join"] {
        for (at, _) in lower.match_indices(keyword) {
            let before = lower[..at].chars().next_back();
            if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
                continue;
            }
            let rest = sql[at + keyword.len()..].trim_start();
            if rest.len() == sql[at + keyword.len()..].len() {
                continue;
            }
            let candidate = match rest.chars().next() {
                Some('<') => rest.find('>').map(|end| &rest[..=end]),
                Some('$') => Some(
                    rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '$'))
                        .map_or(rest, |end| &rest[..end]),
                ),
                _ => None,
            };
            if let Some(placeholder) = candidate
                && placeholder.len() > 1
                && placeholder.len() <= 60
                && !placeholder.contains('\n')
            {
                return Some(placeholder.to_string());
            }
        }
    }
    None
}

/// `IPADDRESS '…'` → `ipaddress('…')`, on tokens so that everything else is kept byte for byte.
/// The parser cannot do it: it refuses `name 'text'` literals of types it does not know.
fn rewrite_ipaddress_literals(sql: &str) -> Result<String> {
    if !sql.to_ascii_lowercase().contains("ipaddress") {
        return Ok(sql.to_string());
    }
    // Raw tokens print back exactly as written (`'it''s'` stays so).
    let tokens = Tokenizer::new(&GenericDialect {}, sql)
        .with_unescape(false)
        .tokenize()
        .map_err(|e| DataFusionError::SQL(Box::new(e.into()), None))?;
    let mut out = String::with_capacity(sql.len() + 16);
    let mut i = 0;
    while i < tokens.len() {
        if let Token::Word(word) = &tokens[i]
            && word.quote_style.is_none()
            && word.value.eq_ignore_ascii_case("ipaddress")
            && !previous_is_as(&tokens[..i])
        {
            let mut next = i + 1;
            while matches!(tokens.get(next), Some(Token::Whitespace(_))) {
                next += 1;
            }
            if let Some(literal @ Token::SingleQuotedString(_)) = tokens.get(next) {
                out.push_str(&format!("ipaddress({literal})"));
                i = next + 1;
                continue;
            }
        }
        out.push_str(&tokens[i].to_string());
        i += 1;
    }
    Ok(out)
}

/// Whether the last token before whitespace is `AS` (a cast's type, not a literal).
fn previous_is_as(tokens: &[Token]) -> bool {
    tokens
        .iter()
        .rev()
        .find(|t| {
            !matches!(
                t,
                Token::Whitespace(Whitespace::Space | Whitespace::Newline | Whitespace::Tab)
            )
        })
        .is_some_and(|t| matches!(t, Token::Word(w) if w.value.eq_ignore_ascii_case("as")))
}

fn rewrite(statement: &mut datafusion::sql::sqlparser::ast::Statement, context: &RewriteContext) {
    let mut unnests = UnnestJoins::default();
    let _ = VisitMut::visit(statement, &mut unnests);
    if !unnests.renamed.is_empty() {
        let _ = visit_expressions_mut(statement, |expr| {
            if let Expr::CompoundIdentifier(parts) = expr
                && let Some(first) = parts.first_mut()
                && let Some((_, to)) = unnests
                    .renamed
                    .iter()
                    .find(|(from, _)| *from == normalise(first))
            {
                *first = to.clone();
            }
            ControlFlow::<()>::Continue(())
        });
    }
    let relations = Relations::of(statement);
    let json_paths = relations
        .tables
        .iter()
        .all(|t| !context.lake_tables.contains(t))
        && JSON_TEXT_COLUMNS
            .iter()
            .all(|c| !relations.names.contains(*c));
    if json_paths {
        let _ = VisitMut::visit(
            statement,
            &mut NameJsonPathColumns {
                relations: &relations,
            },
        );
    }
    let _ = visit_expressions_mut(statement, |expr| {
        if json_paths && let Some(path) = json_path_read(expr, &relations) {
            *expr = path;
        }
        rewrite_expr(expr);
        ControlFlow::<()>::Continue(())
    });
}

fn rewrite_expr(expr: &mut Expr) {
    match expr {
        Expr::CompoundFieldAccess { root, access_chain }
            if !matches!(
                root.as_ref(),
                Expr::Identifier(_) | Expr::CompoundIdentifier(_)
            ) =>
        {
            for access in access_chain.iter_mut() {
                if let AccessExpr::Dot(Expr::Identifier(field)) = access {
                    let name = normalise(field);
                    *access = AccessExpr::Subscript(Subscript::Index {
                        index: Expr::value(Value::SingleQuotedString(name)),
                    });
                }
            }
        }
        Expr::Cast {
            expr: inner,
            data_type,
            ..
        } if is_ipaddress_type(data_type) => {
            let inner = std::mem::replace(inner.as_mut(), Expr::value(Value::Null));
            *expr = call("ipaddress", vec![inner]);
        }
        Expr::Function(function) if is_call_of(function, "try") => {
            if let Some(mut inner) = single_argument(function) {
                let _ = visit_expressions_mut(&mut inner, |e| {
                    if let Expr::Cast { kind, .. } = e
                        && *kind == CastKind::Cast
                    {
                        *kind = CastKind::TryCast;
                    }
                    ControlFlow::<()>::Continue(())
                });
                *expr = Expr::Nested(Box::new(inner));
            }
        }
        _ => {}
    }
}

fn is_ipaddress_type(data_type: &DataType) -> bool {
    matches!(data_type, DataType::Custom(name, modifiers)
        if modifiers.is_empty() && is_simple_name(name, "ipaddress"))
}

fn is_simple_name(name: &ObjectName, wanted: &str) -> bool {
    matches!(name.0.as_slice(), [ObjectNamePart::Identifier(ident)]
        if ident.quote_style.is_none() && ident.value.eq_ignore_ascii_case(wanted))
}

fn is_call_of(function: &Function, wanted: &str) -> bool {
    is_simple_name(&function.name, wanted) && function.over.is_none()
}

fn single_argument(function: &Function) -> Option<Expr> {
    match &function.args {
        FunctionArguments::List(list)
            if list.args.len() == 1 && list.duplicate_treatment.is_none() =>
        {
            match &list.args[0] {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e.clone()),
                _ => None,
            }
        }
        _ => None,
    }
}

fn call(name: &str, args: Vec<Expr>) -> Expr {
    Expr::Function(Function {
        name: ObjectName::from(vec![Ident::new(name)]),
        uses_odbc_syntax: false,
        parameters: FunctionArguments::None,
        args: FunctionArguments::List(FunctionArgumentList {
            duplicate_treatment: None,
            args: args
                .into_iter()
                .map(|e| FunctionArg::Unnamed(FunctionArgExpr::Expr(e)))
                .collect(),
            clauses: Vec::new(),
        }),
        filter: None,
        null_treatment: None,
        over: None,
        within_group: Vec::new(),
    })
}

/// Rewrites `CROSS JOIN UNNEST` (and `, UNNEST`) of a column into `unnest()` in a derived table;
/// `renamed` collects the UNNEST aliases and the relation that now holds their column.
#[derive(Default)]
struct UnnestJoins {
    renamed: Vec<(String, Ident)>,
}

impl VisitorMut for UnnestJoins {
    type Break = ();

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        self.in_set_expr(query.body.as_mut());
        ControlFlow::Continue(())
    }
}

impl UnnestJoins {
    fn in_set_expr(&mut self, body: &mut SetExpr) {
        match body {
            SetExpr::Select(select) => {
                // `FROM t, UNNEST(...)` is a join as much as `FROM t CROSS JOIN UNNEST(...)`.
                if select.from.len() == 2
                    && select.from[1].joins.is_empty()
                    && matches!(select.from[1].relation, TableFactor::UNNEST { .. })
                {
                    let unnest = select.from.remove(1).relation;
                    select.from[0].joins.insert(
                        0,
                        Join {
                            relation: unnest,
                            global: false,
                            join_operator: JoinOperator::CrossJoin(JoinConstraint::None),
                        },
                    );
                }
                for table in &mut select.from {
                    while let Some(join) = table.joins.first()
                        && matches!(
                            join.join_operator,
                            JoinOperator::CrossJoin(JoinConstraint::None)
                        )
                        && let Some(rewritten) = self.unnest_beside(&table.relation, &join.relation)
                    {
                        table.relation = rewritten;
                        table.joins.remove(0);
                    }
                }
            }
            SetExpr::SetOperation { left, right, .. } => {
                self.in_set_expr(left);
                self.in_set_expr(right);
            }
            _ => {}
        }
    }

    /// `(SELECT *, unnest(array) AS column FROM base) AS base_name`, when `join` unnests one
    /// array into one named column.
    fn unnest_beside(&mut self, base: &TableFactor, join: &TableFactor) -> Option<TableFactor> {
        let TableFactor::UNNEST {
            alias: Some(alias),
            array_exprs,
            with_offset: false,
            with_offset_alias: None,
            with_ordinality: false,
        } = join
        else {
            return None;
        };
        let ([array], [column]) = (array_exprs.as_slice(), alias.columns.as_slice()) else {
            return None;
        };
        let base_name = match base {
            TableFactor::Table { name, alias, .. } => match alias {
                Some(alias) => alias.name.clone(),
                None => name.0.last()?.as_ident()?.clone(),
            },
            TableFactor::Derived {
                alias: Some(alias), ..
            } => alias.name.clone(),
            _ => return None,
        };
        // Printed and parsed again: the AST's own text, so no value of the query is re-quoted.
        let text = format!("SELECT *, unnest({array}) AS {} FROM {base}", column.name);
        let subquery = Parser::new(&GenericDialect {})
            .try_with_sql(&text)
            .and_then(|mut parser| parser.parse_query())
            .ok()?;
        self.renamed
            .push((normalise(&alias.name), base_name.clone()));
        Some(TableFactor::Derived {
            lateral: false,
            subquery,
            alias: Some(TableAlias {
                explicit: true,
                name: base_name,
                at: None,
                columns: Vec::new(),
            }),
            sample: None,
        })
    }
}

/// The relations a statement reads: table names (last part, normalised) and every name a
/// column can be qualified with (table names and aliases).
#[derive(Debug, Default)]
struct Relations {
    tables: BTreeSet<String>,
    names: BTreeSet<String>,
}

impl Relations {
    fn of(statement: &datafusion::sql::sqlparser::ast::Statement) -> Self {
        let mut relations = Relations::default();
        let _ = Visit::visit(statement, &mut relations);
        relations
    }
}

impl Visitor for Relations {
    type Break = ();

    fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<()> {
        let alias = match factor {
            TableFactor::Table { name, alias, .. } => {
                let full: Vec<String> = name
                    .0
                    .iter()
                    .filter_map(|part| part.as_ident().map(normalise))
                    .collect();
                if let Some(last) = full.last() {
                    self.names.insert(last.clone());
                }
                self.tables.insert(full.join("."));
                if let Some(last) = full.last() {
                    self.tables.insert(last.clone());
                }
                alias
            }
            TableFactor::Derived { alias, .. }
            | TableFactor::UNNEST { alias, .. }
            | TableFactor::Function { alias, .. }
            | TableFactor::NestedJoin { alias, .. } => alias,
            _ => &None,
        };
        if let Some(alias) = alias {
            self.names.insert(normalise(&alias.name));
        }
        ControlFlow::Continue(())
    }
}

/// An identifier as DataFusion resolves it: unquoted ones are folded to lower case.
pub fn normalise(ident: &Ident) -> String {
    match ident.quote_style {
        Some(_) => ident.value.clone(),
        None => ident.value.to_ascii_lowercase(),
    }
}

/// `col.key…` or `relation.col.key…` with `col` a JSON text column, as
/// `json_extract_scalar(col, '$.key…')`.
fn json_path_read(expr: &Expr, relations: &Relations) -> Option<Expr> {
    let Expr::CompoundIdentifier(parts) = expr else {
        return None;
    };
    let is_json_column = |ident: &Ident| JSON_TEXT_COLUMNS.contains(&normalise(ident).as_str());
    let (column, keys) = match parts.as_slice() {
        [column, keys @ ..] if is_json_column(column) && !keys.is_empty() => {
            (Expr::Identifier(column.clone()), keys)
        }
        [relation, column, keys @ ..]
            if relations.names.contains(&normalise(relation))
                && is_json_column(column)
                && !keys.is_empty() =>
        {
            (
                Expr::CompoundIdentifier(vec![relation.clone(), column.clone()]),
                keys,
            )
        }
        _ => return None,
    };
    let path = json_path(keys);
    Some(call(
        "json_extract_scalar",
        vec![column, Expr::value(Value::SingleQuotedString(path))],
    ))
}

/// A JSONPath of keys as written (JSON keys are case-sensitive, so no folding).
fn json_path(keys: &[Ident]) -> String {
    let mut path = String::from("$");
    for key in keys {
        let plain = key
            .value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if plain {
            path.push('.');
            path.push_str(&key.value);
        } else {
            path.push_str("[\"");
            path.push_str(&key.value.replace('"', "\\\""));
            path.push_str("\"]");
        }
    }
    path
}

/// Names a selected JSON path after its last key (`requestParameters.key` → column `key`), as
/// a struct field read would be named.
struct NameJsonPathColumns<'a> {
    relations: &'a Relations,
}

impl VisitorMut for NameJsonPathColumns<'_> {
    type Break = ();

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        name_in_set_expr(query.body.as_mut(), self.relations);
        ControlFlow::Continue(())
    }
}

fn name_in_set_expr(body: &mut SetExpr, relations: &Relations) {
    match body {
        SetExpr::Select(select) => {
            for item in &mut select.projection {
                if let SelectItem::UnnamedExpr(expr @ Expr::CompoundIdentifier(_)) = item
                    && json_path_read(expr, relations).is_some()
                    && let Expr::CompoundIdentifier(parts) = expr
                    && let Some(last) = parts.last().cloned()
                {
                    *item = SelectItem::ExprWithAlias {
                        expr: expr.clone(),
                        alias: last,
                    };
                }
            }
        }
        SetExpr::SetOperation { left, right, .. } => {
            name_in_set_expr(left, relations);
            name_in_set_expr(right, relations);
        }
        _ => {}
    }
}

/// Parses `name` as a table name the way a query writes one: `t`, `db.t`, `"db"."t"`,
/// `catalog.db.t`. A name that is not an SQL identifier (an event data store id with hyphens)
/// is taken whole, as the quoted identifier a query would write it as.
pub fn parse_table_name(name: &str) -> Vec<String> {
    let parsed = Parser::new(&GenericDialect {})
        .try_with_sql(name)
        .and_then(|mut parser| {
            let object = parser.parse_object_name(false)?;
            parser.expect_token(&Token::EOF)?;
            Ok(object)
        });
    match parsed {
        Ok(object) => {
            let parts: Option<Vec<String>> = object
                .0
                .iter()
                .map(|p| p.as_ident().map(normalise))
                .collect();
            match parts {
                // More than three parts is refused when the name is registered.
                Some(parts) if !parts.is_empty() => parts,
                _ => vec![name.to_string()],
            }
        }
        Err(_) => vec![name.trim_matches('"').to_string()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(sql: &str) -> String {
        parse_statement(sql, &RewriteContext::default(), 50)
            .unwrap()
            .to_string()
    }

    #[test]
    fn ipaddress_literals_and_casts_become_calls() {
        assert_eq!(
            rewritten(
                "SELECT 1 FROM t WHERE CAST(sourceipaddress AS IPADDRESS) > IPADDRESS '10.0.0.0'"
            ),
            "SELECT 1 FROM t WHERE ipaddress(sourceipaddress) > ipaddress('10.0.0.0')"
        );
        assert_eq!(
            rewritten(
                "SELECT 'it''s', \"a \"\"b\"\"\" FROM t -- ipaddress\nWHERE IPADDRESS '::1' = x AND y = $ip"
            ),
            "SELECT 'it''s', \"a \"\"b\"\"\" FROM t WHERE ipaddress('::1') = x AND y = $ip",
            "the rest of the text is kept as written"
        );
        assert_eq!(
            rewritten("SELECT ipaddress FROM t"),
            "SELECT ipaddress FROM t",
            "a column named ipaddress stays a column"
        );
    }

    #[test]
    fn try_turns_casts_into_try_casts() {
        assert_eq!(
            rewritten("SELECT try(CAST(x AS BIGINT) + 1) FROM t"),
            "SELECT (TRY_CAST(x AS BIGINT) + 1) FROM t"
        );
    }

    #[test]
    fn dotted_paths_read_json_text_columns() {
        assert_eq!(
            rewritten(
                "SELECT requestParameters.key, ct.additionalEventData.bytesTransferredOut AS b FROM cloudtrail_logs ct WHERE ct.requestParameters.bucketName = 'x'"
            ),
            "SELECT json_extract_scalar(requestParameters, '$.key') AS key, json_extract_scalar(ct.additionalEventData, '$.bytesTransferredOut') AS b FROM cloudtrail_logs ct WHERE json_extract_scalar(ct.requestParameters, '$.bucketName') = 'x'"
        );
        assert_eq!(
            rewritten("SELECT useridentity.arn, unnested.x.arn FROM t"),
            "SELECT useridentity.arn, unnested.x.arn FROM t",
            "struct fields are left alone"
        );
        let lake = RewriteContext {
            lake_tables: ["eds".to_string()].into(),
        };
        assert_eq!(
            parse_statement("SELECT requestparameters.key FROM eds", &lake, 50)
                .unwrap()
                .to_string(),
            "SELECT requestparameters.key FROM eds",
            "Lake's columns are maps: not rewritten"
        );
        assert_eq!(
            rewritten("SELECT requestparameters.key FROM requestparameters"),
            "SELECT requestparameters.key FROM requestparameters",
            "a relation named like the column makes the path ambiguous"
        );
    }

    #[test]
    fn cross_join_unnest_becomes_unnest_in_a_derived_table() {
        assert_eq!(
            rewritten(
                "SELECT unnested.r.arn, t.eventname FROM cloudtrail_logs t CROSS JOIN UNNEST(t.resources) unnested (r) WHERE unnested.r.arn LIKE '%x'"
            ),
            "SELECT t.r.arn, t.eventname FROM (SELECT *, unnest(t.resources) AS r FROM cloudtrail_logs t) AS t WHERE t.r.arn LIKE '%x'"
        );
        assert_eq!(
            rewritten("SELECT u.r FROM cloudtrail, UNNEST(resources) AS u(r)"),
            "SELECT cloudtrail.r FROM (SELECT *, unnest(resources) AS r FROM cloudtrail) AS cloudtrail"
        );
    }

    #[test]
    fn fields_of_function_results_are_subscripts() {
        assert_eq!(
            rewritten("SELECT element_at(resources, 1).ARN FROM t"),
            "SELECT element_at(resources, 1)['arn'] FROM t"
        );
    }

    #[test]
    fn table_names_parse_as_queries_write_them() {
        assert_eq!(parse_table_name("Cloudtrail"), ["cloudtrail"]);
        assert_eq!(
            parse_table_name("\"irworkshopgluedatabase\".\"IRtable\""),
            ["irworkshopgluedatabase", "IRtable"]
        );
        assert_eq!(
            parse_table_name("awsdatacatalog.db.t"),
            ["awsdatacatalog", "db", "t"]
        );
        assert_eq!(
            parse_table_name("a1b2c3d4-5678-90ab-cdef-EXAMPLE11111"),
            ["a1b2c3d4-5678-90ab-cdef-EXAMPLE11111"]
        );
    }

    #[test]
    fn a_table_placeholder_is_named() {
        for (sql, placeholder) in [
            ("SELECT * FROM <EDS ID> WHERE x = 1", "<EDS ID>"),
            ("SELECT *\nFROM\n    $EDS_ID \nWHERE a < b", "$EDS_ID"),
            (
                "select 1 from t join <other_table> on true",
                "<other_table>",
            ),
        ] {
            let error = parse_statement(sql, &RewriteContext::default(), 50)
                .unwrap_err()
                .to_string();
            assert!(
                error.contains(&format!("placeholder {placeholder} ")),
                "{error}"
            );
        }
        assert!(table_placeholder("SELECT a FROM t WHERE a < 5 AND b > 3").is_none());
    }

    #[test]
    fn one_statement_at_a_time() {
        assert!(parse_statement("SELECT 1; SELECT 2", &RewriteContext::default(), 50).is_err());
        assert!(parse_statement("  ", &RewriteContext::default(), 50).is_err());
        assert!(parse_statement("SELECT 1;", &RewriteContext::default(), 50).is_ok());
    }
}
