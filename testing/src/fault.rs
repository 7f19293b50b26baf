//! Faults the local service can inject into the calls the SDK makes.

/// What goes wrong in an injected [`Fault`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FaultKind {
    /// The checkpoint call is refused with `TooManyRequestsException` (429) and nothing is
    /// applied.
    Throttle,
    /// The checkpoint call fails with a `ServiceException` (500) and nothing is applied.
    ServerError,
    /// The checkpoint call is refused with `InvalidParameterValueException` "Invalid
    /// checkpoint token" and nothing is applied; the token stays valid.
    InvalidToken,
    /// The checkpoint is applied, but its response is lost: the caller sees a transport
    /// error. A retry with the same `ClientToken` and `CheckpointToken` gets the cached
    /// response.
    LostResponse,
    /// The checkpoint is applied, then the running invocation crashes: it never sees the
    /// response, the service records an `InvocationCompleted` event with an error, and the
    /// function is invoked again.
    Crash,
    /// The checkpoint is applied, but the invocation runs out of time while it waits for
    /// the response, which arrives only once the invocation is past the SDK's soft
    /// deadline (its Lambda deadline less the margin the SDK keeps to write what is
    /// queued): the SDK sees the deadline pass with work under way and ends the invocation
    /// as on Lambda, with a function error after which the function is invoked again (what
    /// the invocation wrote until then is kept).
    ///
    /// An execution with this fault gives its invocations a Lambda deadline: the
    /// [`LocalRunner::invocation_timeout`](super::LocalRunner::invocation_timeout), or 15
    /// minutes (Lambda's longest) if none is set. The response waits on tokio's clock, so
    /// use a paused clock (`#[tokio::test(start_paused = true)]`, where the wait costs no
    /// real time and the moment the deadline passes is exact), or a short invocation
    /// timeout.
    Deadline,
    /// A `GetDurableExecutionState` call is refused with `TooManyRequestsException`.
    GetStateThrottle,
    /// A `GetDurableExecutionState` call fails with a `ServiceException`.
    GetStateServerError,
}

impl FaultKind {
    /// Whether the fault targets `GetDurableExecutionState` calls (otherwise checkpoint
    /// calls).
    pub fn is_get_state(self) -> bool {
        matches!(
            self,
            FaultKind::GetStateThrottle | FaultKind::GetStateServerError
        )
    }
}

/// A fault injected once into one service call of an execution.
///
/// By default a fault hits the next call of its kind (a checkpoint call, or a
/// `GetDurableExecutionState` call for the `GetState*` kinds); [`Fault::at_call`] picks a
/// call by its number instead. Calls are numbered from 1 for each execution, counting every
/// call the service receives, retries included.
///
/// ```
/// use lambda_durable_testing::{Fault, FaultKind};
///
/// let fault = Fault::crash().at_call(3);
/// assert_eq!(fault.kind(), FaultKind::Crash);
/// assert_eq!(fault.call(), Some(3));
/// assert_eq!(Fault::throttle().call(), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fault {
    kind: FaultKind,
    at: Option<u64>,
}

impl Fault {
    /// A fault of this kind on the next call.
    pub fn new(kind: FaultKind) -> Self {
        Self { kind, at: None }
    }

    /// [`FaultKind::Throttle`] on the next checkpoint call.
    pub fn throttle() -> Self {
        Self::new(FaultKind::Throttle)
    }

    /// [`FaultKind::ServerError`] on the next checkpoint call.
    pub fn server_error() -> Self {
        Self::new(FaultKind::ServerError)
    }

    /// [`FaultKind::InvalidToken`] on the next checkpoint call.
    pub fn invalid_token() -> Self {
        Self::new(FaultKind::InvalidToken)
    }

    /// [`FaultKind::LostResponse`] on the next checkpoint call.
    pub fn lost_response() -> Self {
        Self::new(FaultKind::LostResponse)
    }

    /// [`FaultKind::Crash`] after the next checkpoint call.
    pub fn crash() -> Self {
        Self::new(FaultKind::Crash)
    }

    /// [`FaultKind::Deadline`] during the next checkpoint call.
    pub fn deadline() -> Self {
        Self::new(FaultKind::Deadline)
    }

    /// Hits call number `call` (counted from 1) instead of the next call; 0 means the next
    /// call.
    pub fn at_call(mut self, call: u64) -> Self {
        self.at = (call > 0).then_some(call);
        self
    }

    /// What goes wrong.
    pub fn kind(&self) -> FaultKind {
        self.kind
    }

    /// The number of the call the fault hits, or `None` for the next call.
    pub fn call(&self) -> Option<u64> {
        self.at
    }

    /// Whether this fault hits call number `call` of its kind.
    pub(crate) fn hits(&self, call: u64, get_state: bool) -> bool {
        self.kind.is_get_state() == get_state && self.at.is_none_or(|at| at == call)
    }
}
