//! Services: named tables of methods, and the router over them. The adapters that turn typed
//! handlers into the one erased shape the call driver runs are in `service/adapters.rs`.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::Arc;

use super::context::CallContext;
use super::handler::Handler;
use super::intercept::Interceptors;
use super::stream::{RequestStream, ResponseSink};
use crate::codec::compression::Encoding;
use crate::method::MethodName;
use crate::status::Status;

mod adapters;
use self::adapters::{Bidi, ClientStreaming, ServerStreaming, Unary};

/// A gRPC service: its fully-qualified name (`package.Service`) and its methods.
///
/// Generated code builds one from a trait implementation; hand-written services chain the four
/// call kinds. Each handler receives the [`CallContext`] first.
///
/// ```
/// use h2grpc::server::Service;
/// use h2grpc::Status;
///
/// let service = Service::new("echo.v1.Echo")
///     .unary("Say", |_ctx, req: String| async move { Ok::<_, Status>(format!("you said {req}")) });
/// assert_eq!(service.name(), "echo.v1.Echo");
/// assert_eq!(service.method_names().collect::<Vec<_>>(), ["Say"]);
/// ```
pub struct Service {
    name: String,
    methods: Vec<(String, Arc<dyn Handler>)>,
    options: ServiceOptions,
}

/// What a service adds to each of its calls, whatever the method.
#[derive(Clone, Debug, Default)]
pub(crate) struct ServiceOptions {
    /// Run after the server's own interceptors.
    pub(crate) interceptors: Interceptors,
    /// The response compression asked for, over the server's default.
    pub(crate) send_compression: Option<Encoding>,
}

impl fmt::Debug for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Service")
            .field("name", &self.name)
            .field("methods", &self.method_names().collect::<Vec<_>>())
            .field("options", &self.options)
            .finish()
    }
}

/// The four method kinds, one shape: a handler taking the context and the kind's request
/// side (and response sink), wrapped in the kind's adapter from `service/adapters.rs`.
macro_rules! kinds {
    ($(
        $(#[$doc:meta])*
        fn $kind:ident($($arg:ty),*) -> $out:ty = $adapter:ident;
    )*) => {$(
        $(#[$doc])*
        pub fn $kind<Req, Resp, F, Fut>(
            self,
            method: impl MethodName<Req, Resp>,
            handler: F,
        ) -> Service
        where
            Req: prost::Message + Default + std::fmt::Debug + 'static,
            Resp: prost::Message + std::fmt::Debug + 'static,
            F: Fn(CallContext, $($arg),*) -> Fut + Send + Sync + 'static,
            Fut: Future<Output = Result<$out, Status>> + Send + 'static,
        {
            let adapter = $adapter { handler, _types: std::marker::PhantomData };
            self.add(method.name(), Arc::new(adapter))
        }
    )*};
}

impl Service {
    /// A service named `name`: `package.Service` exactly as in the `.proto` (case-sensitive),
    /// without the leading `/` of a path.
    ///
    /// # Panics
    ///
    /// If `name` cannot be a service name: empty, with a `/` (`"/echo.v1.Echo"`), an empty
    /// dotted segment (`"echo..Echo"`), a space or non-ASCII (see [`method`](crate::method)).
    /// Names are a program's constants, so a typo fails when the server is set up instead of
    /// answering UNIMPLEMENTED to every call.
    ///
    /// ```should_panic
    /// // panics: "invalid service name \"/echo.v1.Echo\": a service name holds no '/' ..."
    /// let _ = h2grpc::Service::new("/echo.v1.Echo");
    /// ```
    pub fn new(name: impl Into<String>) -> Service {
        let name = name.into();
        if let Err(reason) = crate::method::check_service_name(&name) {
            panic!("invalid service name {name:?}: {reason}");
        }
        Service { name, methods: Vec::new(), options: ServiceOptions::default() }
    }

    /// Adds an interceptor for this service's calls: it runs after the server's own
    /// ([`Builder::intercept`](super::Builder::intercept)), before the handler, with the same
    /// powers: refuse the call with a [`Status`], or add response metadata. Several run in the
    /// order they were added.
    ///
    /// ```
    /// use h2grpc::server::Service;
    /// use h2grpc::Status;
    ///
    /// let admin = Service::new("admin.v1.Admin")
    ///     .intercept(|ctx| match ctx.peer().uid() {
    ///         Some(0) => Ok(()),
    ///         _ => Err(Status::permission_denied("admin calls are for root only")),
    ///     })
    ///     .unary("Reload", |_ctx, _req: ()| async { Ok::<(), Status>(()) });
    /// # let _ = admin;
    /// ```
    pub fn intercept<F>(mut self, interceptor: F) -> Service
    where
        F: Fn(&CallContext) -> Result<(), Status> + Send + Sync + 'static,
    {
        self.options.interceptors.push(interceptor);
        self
    }

    /// Adds an interceptor for this service's calls that may `await` before the handler runs
    /// (see [`Builder::intercept_async`](super::Builder::intercept_async)): it takes the
    /// context and hands it back, or refuses the call with a [`Status`]. It runs after the
    /// server's interceptors, in order with this service's plain ones.
    ///
    /// ```
    /// use h2grpc::{Service, Status};
    ///
    /// let admin = Service::new("admin.v1.Admin")
    ///     .intercept_async(|ctx| async move {
    ///         tokio::task::yield_now().await; // stands for a lookup
    ///         match ctx.metadata().get("x-admin-key") {
    ///             Some("open sesame") => Ok(ctx),
    ///             _ => Err(Status::permission_denied("admin calls need x-admin-key")),
    ///         }
    ///     })
    ///     .unary("Reload", |_ctx, _req: ()| async { Ok::<(), Status>(()) });
    /// # let _ = admin;
    /// ```
    pub fn intercept_async<F, Fut>(mut self, interceptor: F) -> Service
    where
        F: Fn(CallContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<CallContext, Status>> + Send + 'static,
    {
        self.options.interceptors.push_async(interceptor);
        self
    }

    /// Compresses this service's response messages with `encoding`, when the client accepts
    /// it (else they go uncompressed), instead of the server's default
    /// ([`Builder::send_compression`](super::Builder::send_compression)); a handler may still
    /// choose per call ([`CallContext::set_compression`]). Default: the server's.
    ///
    /// ```
    /// use h2grpc::codec::compression::Encoding;
    /// use h2grpc::server::Service;
    ///
    /// let logs = Service::new("logs.v1.Logs").send_compression(Encoding::Gzip);
    /// # let _ = logs;
    /// ```
    #[cfg(feature = "compression")]
    pub fn send_compression(mut self, encoding: Encoding) -> Service {
        self.options.send_compression = Some(encoding);
        self
    }

    /// The service's fully-qualified name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The names of the methods registered so far, in registration order.
    pub fn method_names(&self) -> impl Iterator<Item = &str> {
        self.methods.iter().map(|(name, _)| name.as_str())
    }

    fn add(mut self, method: (&str, Option<&str>), handler: Arc<dyn Handler>) -> Service {
        let service = &self.name;
        let (method, of_service) = method;
        if let Err(reason) = crate::method::check_method_name(method) {
            panic!("invalid method name {method:?} in service {service}: {reason}");
        }
        if let Some(other) = of_service.filter(|other| other != service) {
            panic!("method /{other}/{method} is added to service {service}");
        }
        if self.methods.iter().any(|(name, _)| name == method) {
            panic!("method {method:?} is added twice to service {service}");
        }
        self.methods.push((method.to_owned(), handler));
        self
    }

    kinds! {
        /// Adds a unary method: one request in, one response out.
        ///
        /// `method` is the method's name (`"Say"`) or its [`Method`](crate::Method) handle, whose
        /// types the handler then takes without annotations:
        ///
        /// ```
        /// use h2grpc::{Method, Service, Status};
        ///
        /// const SAY: Method<String, String> = Method::new("/echo.v1.Echo/Say");
        /// let echo = Service::new(SAY.service())
        ///     .unary(SAY, |_ctx, text| async move { Ok::<_, Status>(format!("{text}!")) });
        /// assert_eq!(echo.method_names().collect::<Vec<_>>(), ["Say"]);
        /// ```
        ///
        /// # Panics
        ///
        /// As each of the four method kinds, if `method` is not a method name (empty, or with a
        /// `/`, a space or non-ASCII), if it is a handle on another service's method, or if the
        /// service already has a method of that name.
        ///
        /// ```should_panic
        /// use h2grpc::{Service, Status};
        /// // panics: "method \"Say\" is added twice to service echo.v1.Echo"
        /// let _ = Service::new("echo.v1.Echo")
        ///     .unary("Say", |_ctx, text: String| async move { Ok::<_, Status>(text) })
        ///     .unary("Say", |_ctx, text: String| async move { Ok::<_, Status>(text) });
        /// ```
        fn unary(Req) -> Resp = Unary;

        /// Adds a server-streaming method: one request in, responses written to a sink.
        fn server_streaming(Req, ResponseSink<Resp>) -> () = ServerStreaming;

        /// Adds a client-streaming method: a stream of requests in, one response out.
        fn client_streaming(RequestStream<Req>) -> Resp = ClientStreaming;

        /// Adds a bidirectional-streaming method: a stream of requests in, responses to a sink.
        fn bidi_streaming(RequestStream<Req>, ResponseSink<Resp>) -> () = Bidi;
    }
}

/// Every registered method, by `:path`.
#[derive(Default)]
pub(crate) struct Router {
    methods: HashMap<String, Method>,
    services: HashMap<String, ()>,
}

/// A registered method: its path, its handler and its service's options.
pub(crate) struct Method {
    pub(crate) path: Arc<str>,
    pub(crate) handler: Arc<dyn Handler>,
    pub(crate) service: Arc<ServiceOptions>,
}

/// What a `:path` resolves to.
pub(crate) enum Route<'a> {
    Found(&'a Method),
    UnknownService(&'a str),
    UnknownMethod { service: &'a str, method: &'a str },
    Malformed,
}

impl Router {
    pub(crate) fn add(&mut self, service: Service) {
        let options = Arc::new(service.options);
        for (method, handler) in service.methods {
            let path = format!("/{}/{}", service.name, method);
            let entry =
                Method { path: Arc::from(path.as_str()), handler, service: options.clone() };
            self.methods.insert(path, entry);
        }
        self.services.insert(service.name, ());
    }

    /// Resolves a `:path`. Split at the last `/` as grpc-go does; matching is case-sensitive.
    pub(crate) fn route<'a>(&'a self, path: &'a str) -> Route<'a> {
        if let Some(method) = self.methods.get(path) {
            return Route::Found(method);
        }
        let Some(rest) = path.strip_prefix('/') else { return Route::Malformed };
        let Some((service, method)) = rest.rsplit_once('/') else { return Route::Malformed };
        if self.services.contains_key(service) {
            Route::UnknownMethod { service, method }
        } else {
            Route::UnknownService(service)
        }
    }

    pub(crate) fn service_names(&self) -> impl Iterator<Item = &str> {
        self.services.keys().map(String::as_str)
    }
}
