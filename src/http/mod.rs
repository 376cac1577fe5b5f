//! HTTP pieces every door shares: our API (`api`), Workspace's native Data Connector protocol
//! (`native_connector`) and its custom backend (`custom_backend`). Extractors that answer in
//! the `{"detail"}` shape, lenient JSON bodies, and streaming query responses. Nothing here
//! knows about a route; the doors depend on this module, never on each other.

mod body;
mod extract;
mod reject;
mod stream;

pub use body::parse_body;
pub use extract::{ApiJson, ApiPath, ApiQuery};
pub use reject::json_errors;
pub use stream::{json_object_stream, stream_response};
