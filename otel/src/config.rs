//! [`OtelConfig`]: where the plugins' spans go and how they are named.

use std::borrow::Cow;

use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider, SpanExporter, TracerProviderBuilder};
use opentelemetry_sdk::Resource;

use crate::ids::DurableIdGenerator;
use crate::otlp::{OtlpError, OtlpJsonExporter};

/// The instrumentation scope name of the spans, unless
/// [configured](OtelConfigBuilder::instrument_name).
pub const DEFAULT_INSTRUMENT_NAME: &str = "lambda-durable";

/// The name of the execution's root span, unless
/// [configured](OtelConfigBuilder::workflow_span_name).
pub const DEFAULT_WORKFLOW_SPAN_NAME: &str = "Workflow";

/// The environment variable with the share of executions an owned provider samples, unless
/// [configured](OtelConfigBuilder::sampling_ratio).
pub const SAMPLING_RATIO_VAR: &str = "OTEL_DURABLE_SAMPLING_RATIO";

/// Where the plugins' spans go and how they are named, shared by
/// [`InvocationOtelPlugin`](crate::InvocationOtelPlugin) and
/// [`ExecutionOtelPlugin`](crate::ExecutionOtelPlugin).
///
/// Build it with [`OtelConfig::builder`]. The tracer provider is either one the
/// configuration owns, built around a [`SpanExporter`] (by default an
/// [`OtlpJsonExporter`] configured from the `OTEL_EXPORTER_OTLP_*` variables), or one you
/// give, which must use the [`DurableIdGenerator`]. Either way the plugins force-flush it at
/// the end of every invocation, before Lambda may freeze the process.
///
/// ```
/// use lambda_durable_otel::{InvocationOtelPlugin, OtelConfig};
/// use opentelemetry_sdk::trace::InMemorySpanExporter;
///
/// let exporter = InMemorySpanExporter::default();
/// let config = OtelConfig::builder()
///     .exporter(exporter.clone())
///     .service_name("orders")
///     .build()?;
/// let plugin = InvocationOtelPlugin::new(config);
/// # drop(plugin);
/// # Ok::<(), lambda_durable_otel::ConfigError>(())
/// ```
#[derive(Clone, Debug)]
pub struct OtelConfig {
    pub(crate) provider: SdkTracerProvider,
    pub(crate) scope: InstrumentationScope,
    pub(crate) workflow_span_name: Cow<'static, str>,
}

impl OtelConfig {
    /// A builder, with the defaults: an owned provider exporting OTLP/HTTP JSON where
    /// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or `OTEL_EXPORTER_OTLP_ENDPOINT` say (else
    /// `http://localhost:4318`, the collector extension of a Lambda layer), instrument name
    /// [`DEFAULT_INSTRUMENT_NAME`], root span name [`DEFAULT_WORKFLOW_SPAN_NAME`].
    pub fn builder() -> OtelConfigBuilder {
        OtelConfigBuilder {
            source: Source::OtlpFromEnv,
            service_name: None,
            sampling_ratio: None,
            instrument_name: Cow::Borrowed(DEFAULT_INSTRUMENT_NAME),
            workflow_span_name: Cow::Borrowed(DEFAULT_WORKFLOW_SPAN_NAME),
        }
    }

    /// The tracer provider the plugins create spans with (to shut it down, or to create
    /// spans of your own in the same pipeline).
    pub fn provider(&self) -> &SdkTracerProvider {
        &self.provider
    }

    /// The instrumentation scope of the spans.
    pub fn scope(&self) -> &InstrumentationScope {
        &self.scope
    }

    /// The name of the execution's root span.
    pub fn workflow_span_name(&self) -> &str {
        &self.workflow_span_name
    }
}

type Install = Box<dyn FnOnce(TracerProviderBuilder) -> TracerProviderBuilder + Send>;

enum Source {
    OtlpFromEnv,
    Exporter(Install),
    Provider(SdkTracerProvider),
}

/// Builds an [`OtelConfig`]; see [`OtelConfig::builder`].
pub struct OtelConfigBuilder {
    source: Source,
    service_name: Option<String>,
    sampling_ratio: Option<f64>,
    instrument_name: Cow<'static, str>,
    workflow_span_name: Cow<'static, str>,
}

impl std::fmt::Debug for OtelConfigBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let source = match &self.source {
            Source::OtlpFromEnv => "otlp from the environment",
            Source::Exporter(_) => "exporter",
            Source::Provider(_) => "provider",
        };
        f.debug_struct("OtelConfigBuilder")
            .field("source", &source)
            .field("service_name", &self.service_name)
            .field("sampling_ratio", &self.sampling_ratio)
            .field("instrument_name", &self.instrument_name)
            .field("workflow_span_name", &self.workflow_span_name)
            .finish()
    }
}

impl OtelConfigBuilder {
    /// An owned provider that exports with `exporter` through a batch span processor (a
    /// thread of its own; the plugins flush it at every invocation end).
    pub fn exporter<E: SpanExporter + 'static>(mut self, exporter: E) -> Self {
        self.source = Source::Exporter(Box::new(move |builder| {
            builder.with_batch_exporter(exporter)
        }));
        self
    }

    /// An owned provider that exports with `exporter` as each span ends, on the thread
    /// that ends it (for tests and debugging; a slow exporter slows the handler down).
    pub fn simple_exporter<E: SpanExporter + 'static>(mut self, exporter: E) -> Self {
        self.source = Source::Exporter(Box::new(move |builder| {
            builder.with_simple_exporter(exporter)
        }));
        self
    }

    /// Your provider: its resource, sampler and processors are used as they are. Build it
    /// with `.with_id_generator(DurableIdGenerator::default())`, or the spans get random
    /// ids (and links to ids no span has; a warning is logged once).
    pub fn provider(mut self, provider: SdkTracerProvider) -> Self {
        self.source = Source::Provider(provider);
        self
    }

    /// The `service.name` of an owned provider's resource when `OTEL_SERVICE_NAME` is not
    /// set (that variable always wins). Without either, `service.name` from
    /// `OTEL_RESOURCE_ATTRIBUTES`, else the Lambda function name.
    pub fn service_name(mut self, name: impl Into<String>) -> Self {
        self.service_name = Some(name.into());
        self
    }

    /// The share of executions an owned provider samples, from 0 (none) to 1 (all). The
    /// decision is made on the trace id, which is the same in every invocation of an
    /// execution, so an execution is traced in all its invocations or in none.
    ///
    /// Without it, [`OTEL_DURABLE_SAMPLING_RATIO`](SAMPLING_RATIO_VAR) gives the ratio, and
    /// without that the provider's default sampler applies (`OTEL_TRACES_SAMPLER`, by
    /// default every span). Your own [`provider`](Self::provider) keeps its sampler:
    /// [`build`](Self::build) refuses both together.
    pub fn sampling_ratio(mut self, ratio: f64) -> Self {
        self.sampling_ratio = Some(ratio);
        self
    }

    /// The instrumentation scope name ([`DEFAULT_INSTRUMENT_NAME`] by default).
    pub fn instrument_name(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.instrument_name = name.into();
        self
    }

    /// The name of the execution's root span ([`DEFAULT_WORKFLOW_SPAN_NAME`] by default).
    pub fn workflow_span_name(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.workflow_span_name = name.into();
        self
    }

    /// The configuration.
    ///
    /// # Errors
    ///
    /// - [`ConfigError::Otlp`], with the default OTLP exporter, when the endpoint the
    ///   environment gives is not a plain `http://` URL;
    /// - [`ConfigError::SamplingRatio`] when the sampling ratio (configured, or from
    ///   [`OTEL_DURABLE_SAMPLING_RATIO`](SAMPLING_RATIO_VAR)) is not a number from 0 to 1;
    /// - [`ConfigError::ProviderOption`] when an option of an owned provider (the sampling
    ///   ratio) is configured together with your own [`provider`](Self::provider).
    pub fn build(self) -> Result<OtelConfig, ConfigError> {
        let sampling_ratio = match (self.sampling_ratio, &self.source) {
            (Some(_), Source::Provider(_)) => {
                return Err(ConfigError::ProviderOption("sampling_ratio"))
            }
            (_, Source::Provider(_)) => None,
            (Some(ratio), _) => Some(valid_ratio(ratio, "the configured sampling ratio")?),
            (None, _) => match std::env::var(SAMPLING_RATIO_VAR) {
                Ok(text) if !text.trim().is_empty() => {
                    let ratio = text.trim().parse::<f64>().map_err(|_| {
                        ConfigError::SamplingRatio(format!("{SAMPLING_RATIO_VAR}={text:?}"))
                    })?;
                    Some(valid_ratio(
                        ratio,
                        &format!("{SAMPLING_RATIO_VAR}={text:?}"),
                    )?)
                }
                _ => None,
            },
        };
        let owned = |install: Install, service_name: Option<&str>| {
            let mut builder = SdkTracerProvider::builder()
                .with_id_generator(DurableIdGenerator::default())
                .with_resource(lambda_resource(service_name));
            if let Some(ratio) = sampling_ratio {
                builder = builder.with_sampler(Sampler::TraceIdRatioBased(ratio));
            }
            install(builder).build()
        };
        let provider = match self.source {
            Source::Provider(provider) => provider,
            Source::Exporter(install) => owned(install, self.service_name.as_deref()),
            Source::OtlpFromEnv => {
                let exporter = OtlpJsonExporter::from_env()?;
                owned(
                    Box::new(move |builder| builder.with_batch_exporter(exporter)),
                    self.service_name.as_deref(),
                )
            }
        };
        let scope = InstrumentationScope::builder(self.instrument_name)
            .with_version(env!("CARGO_PKG_VERSION"))
            .build();
        Ok(OtelConfig {
            provider,
            scope,
            workflow_span_name: self.workflow_span_name,
        })
    }
}

/// Why an [`OtelConfig`] could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The OTLP exporter could not be configured.
    #[error(transparent)]
    Otlp(#[from] OtlpError),
    /// A sampling ratio that is not a number from 0 to 1 (the value, and where it came from).
    #[error("the sampling ratio must be a number from 0 to 1, not {0}")]
    SamplingRatio(String),
    /// An option of the provider the configuration owns, given together with a provider of
    /// your own (which keeps its own settings).
    #[error(
        "`{0}` configures the provider OtelConfig builds; set it on your own provider instead"
    )]
    ProviderOption(&'static str),
}

fn valid_ratio(ratio: f64, source: &str) -> Result<f64, ConfigError> {
    if (0.0..=1.0).contains(&ratio) {
        Ok(ratio)
    } else {
        Err(ConfigError::SamplingRatio(format!("{ratio} ({source})")))
    }
}

/// The resource of an owned provider: the SDK's defaults and `OTEL_RESOURCE_ATTRIBUTES`,
/// the Lambda function (`faas.name`, `faas.version`, `cloud.provider`, `cloud.platform`,
/// `cloud.region`, from the Lambda environment), and `service.name`: `OTEL_SERVICE_NAME`
/// if set, else `service_name`, else a `service.name` of `OTEL_RESOURCE_ATTRIBUTES`, else
/// the function name.
///
/// ```
/// let resource = lambda_durable_otel::lambda_resource(Some("orders"));
/// # drop(resource);
/// ```
pub fn lambda_resource(service_name: Option<&str>) -> Resource {
    let env = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
    let function = env("AWS_LAMBDA_FUNCTION_NAME");
    let mut attributes = Vec::new();
    if let Some(function) = &function {
        attributes.push(KeyValue::new("faas.name", function.clone()));
        attributes.push(KeyValue::new("cloud.provider", "aws"));
        attributes.push(KeyValue::new("cloud.platform", "aws_lambda"));
    }
    if let Some(version) = env("AWS_LAMBDA_FUNCTION_VERSION") {
        attributes.push(KeyValue::new("faas.version", version));
    }
    if let Some(region) = env("AWS_REGION") {
        attributes.push(KeyValue::new("cloud.region", region));
    }
    let from_attributes = env("OTEL_RESOURCE_ATTRIBUTES").is_some_and(|attributes| {
        attributes
            .split(',')
            .any(|pair| pair.split('=').next().map(str::trim) == Some("service.name"))
    });
    // A service.name of OTEL_RESOURCE_ATTRIBUTES stays, unless named otherwise.
    let fallback = if from_attributes { None } else { function };
    let service = env("OTEL_SERVICE_NAME")
        .or_else(|| service_name.map(str::to_string))
        .or(fallback);
    let builder = Resource::builder().with_attributes(attributes);
    match service {
        Some(service) => builder.with_service_name(service).build(),
        None => builder.build(),
    }
}
