pub(crate) mod post_call;
