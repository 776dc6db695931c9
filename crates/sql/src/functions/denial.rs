//! SQL functions over `ctq-denial`: the classifier and message parser, row by row.
//!
//! `access_denied(errorcode, errormessage)` returns the whole diagnosis as a struct (NULL for a
//! record that is not a denial); the scalar helpers return one part each, for `GROUP BY` and
//! `WHERE` without brackets.

use std::sync::Arc;

use ctq_denial::{Decision, Denial, ErrorClass, error_class, parse_message};
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, BooleanBuilder, StringArray, StringBuilder, StructArray,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Fields};
use datafusion::common::{Result, plan_err};
use datafusion::execution::FunctionRegistry;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    AccessDenied,
    IsDenial,
    ErrorClass,
    Principal,
    Action,
    Resource,
    Decision,
    PolicyType,
    PolicyArn,
}

impl Kind {
    const ALL: [Kind; 9] = [
        Kind::AccessDenied,
        Kind::IsDenial,
        Kind::ErrorClass,
        Kind::Principal,
        Kind::Action,
        Kind::Resource,
        Kind::Decision,
        Kind::PolicyType,
        Kind::PolicyArn,
    ];

    fn name(self) -> &'static str {
        match self {
            Kind::AccessDenied => "access_denied",
            Kind::IsDenial => "is_denial",
            Kind::ErrorClass => "error_class",
            Kind::Principal => "denial_principal",
            Kind::Action => "denial_action",
            Kind::Resource => "denial_resource",
            Kind::Decision => "denial_decision",
            Kind::PolicyType => "denial_policy_type",
            Kind::PolicyArn => "denial_policy_arn",
        }
    }

    /// The arguments, all text: (errorcode, errormessage) for the classifying functions,
    /// (errorcode, errormessage, eventname) for `error_class`, errormessage for the parts.
    fn arity(self) -> usize {
        match self {
            Kind::AccessDenied => 2,
            Kind::IsDenial => 1,
            Kind::ErrorClass => 3,
            _ => 1,
        }
    }

    fn usage(self) -> &'static str {
        match self {
            Kind::AccessDenied => "access_denied(errorcode, errormessage)",
            Kind::IsDenial => "is_denial(errorcode)",
            Kind::ErrorClass => "error_class(errorcode, errormessage, eventname)",
            Kind::Principal => "denial_principal(errormessage)",
            Kind::Action => "denial_action(errormessage)",
            Kind::Resource => "denial_resource(errormessage)",
            Kind::Decision => "denial_decision(errormessage)",
            Kind::PolicyType => "denial_policy_type(errormessage)",
            Kind::PolicyArn => "denial_policy_arn(errormessage)",
        }
    }
}

/// The fields of `access_denied(...)`, in order.
fn denial_fields() -> Fields {
    let text = |name: &str| Field::new(name, DataType::Utf8, true);
    Fields::from(vec![
        text("principal"),
        text("action"),
        text("resource"),
        text("decision"),
        text("policy_type"),
        text("policy_arn"),
        text("transitive_through"),
        Field::new("encoded_message", DataType::Boolean, true),
    ])
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct DenialFunction {
    kind: Kind,
    signature: Signature,
}

fn decision_text(decision: Decision) -> &'static str {
    decision.as_str()
}

impl ScalarUDFImpl for DenialFunction {
    fn name(&self) -> &str {
        self.kind.name()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if arg_types.len() != self.kind.arity() {
            return plan_err!(
                "{} takes {} argument{}, {} given: {}",
                self.kind.name(),
                self.kind.arity(),
                if self.kind.arity() == 1 { "" } else { "s" },
                arg_types.len(),
                self.kind.usage()
            );
        }
        Ok(vec![DataType::Utf8; arg_types.len()])
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(match self.kind {
            Kind::AccessDenied => DataType::Struct(denial_fields()),
            Kind::IsDenial => DataType::Boolean,
            _ => DataType::Utf8,
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let texts: Vec<StringArray> = arrays
            .iter()
            .map(|a| Ok(cast(a, &DataType::Utf8)?.as_string::<i32>().clone()))
            .collect::<Result<_>>()?;
        let rows = args.number_rows;
        let value = |column: usize, row: usize| {
            let array = &texts[column];
            array.is_valid(row).then(|| array.value(row))
        };
        let result: ArrayRef = match self.kind {
            Kind::IsDenial => Arc::new(
                (0..rows)
                    .map(|row| Some(error_class(value(0, row), None, None) == ErrorClass::Denial))
                    .collect::<BooleanArray>(),
            ),
            Kind::ErrorClass => Arc::new(
                (0..rows)
                    .map(|row| {
                        let class = error_class(value(0, row), value(1, row), value(2, row));
                        // A record without an error is not an error of any class.
                        (value(0, row).is_some() || class != ErrorClass::NotDenial)
                            .then(|| class.as_str())
                    })
                    .collect::<StringArray>(),
            ),
            Kind::AccessDenied => access_denied(rows, |row| (value(0, row), value(1, row))),
            part => {
                let mut out = StringBuilder::with_capacity(rows, rows * 16);
                for row in 0..rows {
                    match value(0, row) {
                        Some(message) => {
                            out.append_option(message_part(part, &parse_message(message)));
                        }
                        None => out.append_null(),
                    }
                }
                Arc::new(out.finish())
            }
        };
        Ok(ColumnarValue::Array(result))
    }
}

fn message_part(kind: Kind, denial: &Denial) -> Option<String> {
    match kind {
        Kind::Principal => denial.principal.clone(),
        Kind::Action => denial.action.clone(),
        Kind::Resource => denial.resource.clone(),
        Kind::Decision => Some(decision_text(denial.decision).to_string()),
        Kind::PolicyType => denial.policy_type.map(|t| t.as_str().to_string()),
        Kind::PolicyArn => denial.policy_arn.clone(),
        Kind::AccessDenied | Kind::IsDenial | Kind::ErrorClass => None,
    }
}

fn access_denied<'a>(
    rows: usize,
    row_values: impl Fn(usize) -> (Option<&'a str>, Option<&'a str>),
) -> ArrayRef {
    let mut builders: Vec<StringBuilder> = (0..7).map(|_| StringBuilder::new()).collect();
    let mut encoded = BooleanBuilder::with_capacity(rows);
    let mut valid = Vec::with_capacity(rows);
    for row in 0..rows {
        let (code, message) = row_values(row);
        if error_class(code, message, None) != ErrorClass::Denial {
            for builder in &mut builders {
                builder.append_null();
            }
            encoded.append_null();
            valid.push(false);
            continue;
        }
        let denial = parse_message(message.unwrap_or(""));
        let parts = [
            denial.principal.as_deref(),
            denial.action.as_deref(),
            denial.resource.as_deref(),
            Some(decision_text(denial.decision)),
            denial.policy_type.map(|t| t.as_str()),
            denial.policy_arn.as_deref(),
            denial.transitive_through.map(|t| t.as_str()),
        ];
        for (builder, part) in builders.iter_mut().zip(parts) {
            builder.append_option(part);
        }
        encoded.append_value(denial.encoded_message.is_some());
        valid.push(true);
    }
    let mut columns: Vec<ArrayRef> = builders
        .into_iter()
        .map(|mut b| Arc::new(b.finish()) as ArrayRef)
        .collect();
    columns.push(Arc::new(encoded.finish()));
    Arc::new(StructArray::new(
        denial_fields(),
        columns,
        Some(valid.into()),
    ))
}

/// Registers the denial functions.
pub fn register(registry: &mut dyn FunctionRegistry) -> Result<()> {
    for kind in Kind::ALL {
        let function = DenialFunction {
            kind,
            signature: Signature::user_defined(Volatility::Immutable),
        };
        registry.register_udf(Arc::new(ScalarUDF::new_from_impl(function)))?;
    }
    Ok(())
}

/// Names of the functions [`register`] adds.
pub fn names() -> impl Iterator<Item = &'static str> {
    Kind::ALL.into_iter().map(Kind::name)
}
